// What scripts/build.mjs does to wasm-bindgen's .wasm, through binaryen's own parser and optimiser (the npm
// binaryen, wasm-opt 132: Debian's corrupts this output). Every step checks the shape it expects and throws when
// the input differs, so a new wasm-bindgen fails the build instead of shipping a broken module.
import binaryen from 'binaryen';

/** Reads a module with the features its target_features section declares. */
export function readWasm(bytes) {
  const module = binaryen.readBinary(bytes);
  if (!module.validate()) throw new Error('wasm-bindgen produced a module binaryen does not validate');
  return module;
}

const functionTable = (module) => {
  const tables = [];
  for (let i = 0; i < module.getNumTables(); i++) tables.push(binaryen.getTableInfo(module.getTableByIndex(i)));
  return tables;
};

const exports = (module) => {
  const out = [];
  for (let i = 0; i < module.getNumExports(); i++) out.push(binaryen.getExportInfo(module.getExportByIndex(i)));
  return out;
};

/** Names of wasm-bindgen's closure entry points (`invoke` shims): JS calls them through the exported table. */
const CLOSURE_SHIM = /^wasm_bindgen::convert::closures::.*::invoke::h[0-9a-f]{16}$/;

/**
 * Takes the closure shims out of the function table. The js-sys and web-sys crates declare imports that take
 * closures; each declaration's descriptor takes the address of an `invoke` shim, so the linker puts the shims in
 * the table, and wasm-bindgen later deletes the descriptors but not the table entries. JS reaches a shim only
 * through the table, and only when wasm-bindgen exports the table because the module passes closures to JS. This
 * one passes none: its table is not exported, so the entries are dead and their slots may trap instead.
 * Needs the name section (wasm-bindgen keeps it; binaryen's optimiser drops it at the end). Returns how many slots
 * it emptied.
 */
export function dropClosureShims(module) {
  const tables = functionTable(module);
  const exported = new Set(
    exports(module)
      .filter((e) => e.kind === binaryen.ExternalTable)
      .map((e) => e.value),
  );
  if (module.getNumElementSegments() !== 1) {
    throw new Error(`expected one element segment, found ${module.getNumElementSegments()}: wasm-bindgen changed`);
  }
  const segment = binaryen.getElementSegmentInfo(module.getElementSegmentByIndex(0));
  if (exported.has(segment.table)) {
    throw new Error(
      `the function table ${segment.table} is exported (the module passes closures to JS): keep its shims`,
    );
  }
  if (!tables.some((t) => t.name === segment.table)) throw new Error(`no function table ${segment.table}`);
  if (segment.data.some((name) => /^\$?\d+$/.test(name)) || !segment.data.some((name) => name.includes('::'))) {
    throw new Error('the module has no function names: wasm-bindgen must keep the name section');
  }
  const dead = segment.data.filter((name) => CLOSURE_SHIM.test(name));
  if (dead.length === 0)
    throw new Error('no closure shims in the function table: wasm-bindgen changed, check this step');
  const trap = 'wxsub_dead_table_slot';
  module.addFunction(trap, binaryen.none, binaryen.none, [], module.unreachable());
  const offsetInfo = binaryen.getExpressionInfo(segment.offset);
  if (offsetInfo.id !== binaryen.ConstId) throw new Error('the element segment has a computed offset');
  module.removeElementSegment(segment.name);
  module.addActiveElementSegment(
    segment.table,
    segment.name,
    segment.data.map((name) => (CLOSURE_SHIM.test(name) ? trap : name)),
    module.i32.const(offsetInfo.value),
  );
  return dead.length;
}

/**
 * Exports the shadow stack pointer (the `__stack_pointer` global the linker names) as `name`, for the entry's guard
 * (js/loader.js): a JS exception thrown through wasm frames (a page's getter, iterator or full stack) skips the code
 * that pops those frames, and without the guard putting the pointer back a page that does so some hundreds of times
 * exhausts the module's stack for good. Needs the name section.
 */
export function exportStackPointer(module, name) {
  for (let i = 0; i < module.getNumGlobals(); i++) {
    const global = binaryen.getGlobalInfo(module.getGlobalByIndex(i));
    if (global.name !== '__stack_pointer') continue;
    if (!global.mutable || global.type !== binaryen.i32 || global.module) {
      throw new Error('__stack_pointer is not a mutable i32 of the module: the toolchain changed, check this step');
    }
    module.addGlobalExport(global.name, name);
    return;
  }
  throw new Error('no __stack_pointer global: wasm-bindgen must keep the name section');
}

/** wasm-opt -Oz, then the name and producers sections dropped. */
export function optimize(module) {
  binaryen.setOptimizeLevel(2);
  binaryen.setShrinkLevel(2);
  binaryen.setDebugInfo(false);
  module.optimize();
  module.runPasses(['strip-debug', 'strip-producers']);
  if (!module.validate()) throw new Error('the optimised module does not validate');
}

/**
 * Renames the module's imports and exports as the minifier renamed the glue's properties (esbuild's mangle cache:
 * original name → new name), so the long hashed names wasm-bindgen gives them are not shipped twice. Each renamed
 * name must be exactly one import of `importModule` or one export; any other entry fails the build.
 */
export function renameBindings(module, mangleCache, importModule, newImportModule) {
  const renames = Object.entries(mangleCache).filter(([, to]) => to !== false);
  const imports = new Map();
  for (let i = 0; i < module.getNumFunctions(); i++) {
    const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
    if (info.module) imports.set(info.base, info);
  }
  for (const info of imports.values()) {
    if (info.module !== importModule) throw new Error(`import ${info.module}.${info.base} is not from ${importModule}`);
  }
  const exported = new Map(exports(module).map((e) => [e.name, e]));
  for (const [from, to] of renames) {
    const imp = imports.get(from);
    const exp = exported.get(from);
    if (Boolean(imp) === Boolean(exp)) {
      throw new Error(
        `${from} is ${imp ? 'both an import and an export' : 'neither an import nor an export'} of the module`,
      );
    }
    if (imp) {
      module.removeFunction(imp.name);
      module.addFunctionImport(imp.name, newImportModule, to, imp.params, imp.results);
      imports.delete(from);
    } else {
      module.removeExport(from);
      const add = {
        [binaryen.ExternalFunction]: 'addFunctionExport',
        [binaryen.ExternalTable]: 'addTableExport',
        [binaryen.ExternalGlobal]: 'addGlobalExport',
        [binaryen.ExternalMemory]: 'addMemoryExport',
      }[exp.kind];
      module[add](exp.value, to);
    }
  }
  // Imports the glue does not name through a mangled property keep their names, under the new module name.
  for (const imp of imports.values()) {
    module.removeFunction(imp.name);
    module.addFunctionImport(imp.name, newImportModule, imp.base, imp.params, imp.results);
  }
  if (!module.validate()) throw new Error('the module does not validate after renaming its bindings');
}

/** The module's bytes. */
export function emit(module) {
  return module.emitBinary();
}
