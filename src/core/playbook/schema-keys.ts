import type { z } from 'zod';
import type { PathSegment } from './problems.js';

type Def = {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  innerType?: z.core.$ZodType;
  element?: z.core.$ZodType;
  options?: z.core.$ZodType[];
  valueType?: z.core.$ZodType;
  in?: z.core.$ZodType;
};

const defOf = (schema: z.core.$ZodType): Def => schema._zod.def as unknown as Def;

/** The schemas a value can have, looking through optional, default, pipe and union wrappers. */
function variants(schema: z.core.$ZodType): z.core.$ZodType[] {
  const def = defOf(schema);
  if (def.innerType !== undefined) return variants(def.innerType);
  if (def.type === 'pipe' && def.in !== undefined) return variants(def.in);
  if (def.type === 'union' && def.options !== undefined) return def.options.flatMap(variants);
  return [schema];
}

function child(schema: z.core.$ZodType, segment: PathSegment): z.core.$ZodType[] {
  const def = defOf(schema);
  if (typeof segment === 'number') return def.element === undefined ? [] : [def.element];
  if (def.type === 'record' && def.valueType !== undefined) return [def.valueType];
  const next = def.shape?.[segment];
  return next === undefined ? [] : [next];
}

/** The keys the schema allows in the object at `path`, for "did you mean" hints. */
export function keysAt(schema: z.core.$ZodType, path: readonly PathSegment[]): string[] {
  let current = variants(schema);
  for (const segment of path)
    current = current.flatMap((node) => child(node, segment)).flatMap(variants);
  return [...new Set(current.flatMap((node) => Object.keys(defOf(node).shape ?? {})))];
}
