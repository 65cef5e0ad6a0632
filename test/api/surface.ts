/**
 * The package's public surface as TypeScript sees it: every name exported by lib/index.ts and by
 * each of its namespaces, split into runtime values and type-only names.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Names exported by one module or namespace. */
export interface Surface {
  values: string[];
  types: string[];
}

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The exports of lib/index.ts: `''` → the top level, `'nn'`, `'nn.init'`, … → each namespace
 * (`export * as x`), with sorted value and type-only names. Namespaces are listed among the values
 * of their parent.
 */
export function publicSurface(): Map<string, Surface> {
  const entry = join(root, 'lib/index.ts');
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile).config as { compilerOptions: unknown };
  const { options } = ts.convertCompilerOptionsFromJson(config.compilerOptions, root);
  const program = ts.createProgram([entry], { ...options, noEmit: true });
  const checker = program.getTypeChecker();
  const out = new Map<string, Surface>();
  const walk = (moduleSymbol: ts.Symbol, path: string): void => {
    const s: Surface = { values: [], types: [] };
    for (const sym of checker.getExportsOfModule(moduleSymbol)) {
      const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
      const name = sym.getName();
      if (target.flags & ts.SymbolFlags.ValueModule && target.valueDeclaration && ts.isSourceFile(target.valueDeclaration)) {
        s.values.push(name);
        walk(target, path ? `${path}.${name}` : name);
      } else if (target.flags & ts.SymbolFlags.Value) s.values.push(name);
      else s.types.push(name);
    }
    s.values.sort();
    s.types.sort();
    out.set(path, s);
  };
  const sf = program.getSourceFile(entry);
  const sym = sf && checker.getSymbolAtLocation(sf);
  if (!sym) throw new Error(`cannot read the exports of ${entry}`);
  walk(sym, '');
  return out;
}
