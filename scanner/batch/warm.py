"""Imported by the worker forkserver: loads androguard, the writers and the catalogs once for every forked worker."""

import gc
import logging

from scanner.batch.appscan import warm
from scanner.errors import DivulgeError

try:
    warm()
except DivulgeError as exc:  # a broken catalog must not kill the forkserver: each scan will report it as its error
    logging.getLogger(__name__).warning("could not preload catalogs: %s", exc)

# Move everything loaded so far out of the collector's reach: forked workers then do not copy these pages just
# because a collection touched their object headers.
gc.freeze()
