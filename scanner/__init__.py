"""divulge: does this app collect and share more personal data than it says?"""

__version__ = "0.1.0"
