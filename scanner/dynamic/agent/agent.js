// divulge runtime monitor agent (Frida 17+). Built into agent.bundle.js by `make agent`
// (python -m scanner.dynamic.agent_build); divulge loads the bundle, then calls init(plan).
//
// The plan comes from divulge's personal-data API catalog (rules/catalogs/apis.yaml) and its native reads
// (rules/catalogs/runtime.yaml), so the static and the runtime eye watch the same APIs. Every hit is one
// message: {type: "call", t, tid, kind, api, args, stack, ret}. Return values are never sent raw: only their
// type, length and a SHA-256 prefix, so two reads of the same IMEI can be told equal without sending it.
import Java from "frida-java-bridge";

const MAX_FRAMES = 24;
const MAX_ARG = 96;
let plan = null;
const problems = [];

function shape(value) {
  if (value === null || value === undefined) return { type: "null" };
  let text;
  try { text = String(value); } catch (e) { return { type: typeof value }; }
  let type = typeof value;
  try { if (value.$className) type = value.$className; } catch (e) { /* a primitive: keep typeof */ }
  return { type, len: text.length, sha256: Checksum.compute("sha256", text).slice(0, 16) };
}

function argText(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value.slice(0, MAX_ARG);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  // A String[] (the permissions of requestPermissions) arrives array-like: its strings, comma-joined.
  if (typeof value === "object" && typeof value.length === "number" && value.length > 0 &&
      typeof value[0] === "string") {
    return Array.prototype.slice.call(value, 0, 16).join(",").slice(0, 4 * MAX_ARG);
  }
  try {
    const cls = value.$className;
    if (cls === "java.lang.String" || cls === "android.net.Uri" || (cls && cls.endsWith("Uri"))) {
      return String(value).slice(0, MAX_ARG);
    }
  } catch (e) { /* not a Java object */ }
  return null;
}

function report(kind, api, args, stack, ret) {
  send({ type: "call", t: Date.now() / 1000, tid: Process.getCurrentThreadId(), kind, api,
         args: args.map(argText).filter((a) => a !== null).slice(0, 4), stack, ret: shape(ret) });
}

function javaStack() {
  const frames = Java.use("java.lang.Thread").currentThread().getStackTrace();
  const out = [];
  for (let i = 0; i < frames.length && out.length < MAX_FRAMES; i++) {
    const f = frames[i];
    out.push(f.getClassName() + "." + f.getMethodName());
  }
  // The first frames are the stack walk and the hook itself.
  while (out.length && (out[0].startsWith("dalvik.system.VMStack") || out[0].startsWith("java.lang.Thread."))) {
    out.shift();
  }
  return out;
}

function hookJava(hooks) {
  for (const h of hooks) {
    let cls;
    try { cls = Java.use(h.class); } catch (e) { problems.push(`class ${h.class}: ${e.message}`); continue; }
    const method = cls[h.method === "<init>" ? "$init" : h.method];
    if (!method || !method.overloads) { problems.push(`no method ${h.class}.${h.method}`); continue; }
    const api = `${h.class}.${h.method}`;
    for (const overload of method.overloads) {
      overload.implementation = function (...args) {
        const ret = overload.apply(this, args);
        try { report("java", api, args, javaStack(), ret); } catch (e) { problems.push(`${api}: ${e.message}`); }
        return ret;
      };
    }
  }
}

function nativeStack(context) {
  return Thread.backtrace(context, Backtracer.FUZZY).slice(0, MAX_FRAMES).map((address) => {
    const module = Process.findModuleByAddress(address);
    const symbol = DebugSymbol.fromAddress(address);
    const name = symbol && symbol.name ? symbol.name : address.sub(module ? module.base : 0).toString();
    return `${module ? module.name : "?"}!${name}`;
  });
}

function matches(path, patterns) {
  return patterns.some((p) => p.test(path));
}

function hookNative(native) {
  const attach = (name, onEnter, onLeave) => {
    const address = Module.findGlobalExportByName(name);
    if (address === null) { problems.push(`no export ${name}`); return; }
    Interceptor.attach(address, { onEnter, onLeave });
  };
  const paths = (native.paths || []).map((p) => new RegExp(p));  // anchored regexes, made from globs by divulge
  if (paths.length) {
    const onOpen = (index) => function (args) {
      const path = args[index].readUtf8String();
      if (path && matches(path, paths)) report("native", "open", [path], nativeStack(this.context), null);
    };
    // fopen and the like end in openat inside libc, which the interceptor catches too: hooking them would count
    // each read twice.
    attach("open", onOpen(0));
    attach("openat", onOpen(1));
  }
  if (native.getifaddrs) {
    attach("getifaddrs", function () { report("native", "getifaddrs", [], nativeStack(this.context), null); });
  }
  const properties = native.properties || [];
  if (properties.length) {
    attach("__system_property_get", function (args) {
      const name = args[0].readUtf8String();
      if (name && properties.includes(name)) {
        report("native", "__system_property_get", [name], nativeStack(this.context), null);
      }
    });
  }
}

rpc.exports = {
  init(given) {
    plan = given;
    hookNative(plan.native || {});
    const java = Java.available;
    if (java && (plan.java || []).length) Java.perform(() => hookJava(plan.java));
    send({ type: "ready", t: Date.now() / 1000, java, pid: Process.id, arch: Process.arch, problems });
    return { java, problems: problems.length };
  },
  problems() { return problems.slice(); },
};
