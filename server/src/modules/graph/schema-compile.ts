import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/**
 * JSON Schemas submitted for custom feeds, compiled with Ajv. Pure: values in, values out. Draft 2020-12 is the
 * default; a schema that declares draft-07 in $schema is compiled as draft-07. Nothing is fetched: a $ref must
 * resolve inside the schema itself, so compiling never reaches the network.
 */

// ajv-formats is CommonJS with `module.exports = plugin`; under NodeNext the default import is that function.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const DRAFT_2020 = /^https?:\/\/json-schema\.org\/draft\/2020-12\/schema#?$/;
const DRAFT_07 = /^https?:\/\/json-schema\.org\/draft-07\/schema#?$/;
/** Serialised size limit: a feed's record schema is a page of JSON, not a data set. */
export const MAX_JSON_SCHEMA_BYTES = 64 * 1024;

export type RecordValidator = ValidateFunction;
export type CompileResult = { ok: true; validate: RecordValidator; draft: '2020-12' | 'draft-07' } | { ok: false; problem: string };

function newAjv(draft: '2020-12' | 'draft-07') {
  const options = {
    // Unknown keywords and unknown formats are refused (strictSchema), so a typo such as "requried" fails at
    // submission instead of silently validating nothing. Loose-but-valid typing is allowed (strictTypes off).
    strict: false,
    strictSchema: true,
    strictNumbers: true,
    allowUnionTypes: true,
    // One error per record is enough to act on and keeps a hostile record from producing a huge error list.
    allErrors: false,
    logger: false as const,
  };
  const ajv = draft === '2020-12' ? new Ajv2020(options) : new Ajv(options);
  addFormats(ajv);
  return ajv;
}

/** Compiles a submitted JSON Schema, or says what is wrong with it in words a feed author can act on. */
export function compileJsonSchema(jsonSchema: Record<string, unknown>): CompileResult {
  const size = JSON.stringify(jsonSchema).length;
  if (size > MAX_JSON_SCHEMA_BYTES) return { ok: false, problem: `is ${size} bytes; a record schema may have at most ${MAX_JSON_SCHEMA_BYTES}` };
  const declared = jsonSchema.$schema;
  let draft: '2020-12' | 'draft-07';
  if (declared === undefined || (typeof declared === 'string' && DRAFT_2020.test(declared))) draft = '2020-12';
  else if (typeof declared === 'string' && DRAFT_07.test(declared)) draft = 'draft-07';
  else {
    return {
      ok: false,
      problem: `$schema ${JSON.stringify(declared)} is not supported; use "https://json-schema.org/draft/2020-12/schema" or "http://json-schema.org/draft-07/schema#"`,
    };
  }
  try {
    // A fresh instance per schema: two tenants' schemas may carry the same $id, which one instance would refuse.
    return { ok: true, validate: newAjv(draft).compile(jsonSchema), draft };
  } catch (error) {
    return { ok: false, problem: `does not compile as a JSON Schema (${draft}): ${(error as Error).message}` };
  }
}

/** Ajv's first error for a record as one line, e.g. `record/src_ip must match format "ipv4"`. */
export function describeRecordError(errors: ErrorObject[] | null | undefined): string {
  const first = errors?.[0];
  if (!first) return 'record does not match the schema';
  const where = `record${first.instancePath}`;
  const extra = first.keyword === 'additionalProperties' ? ` (${String((first.params as { additionalProperty?: unknown }).additionalProperty)})` : '';
  return `${where} ${first.message ?? 'is not valid'}${extra}`;
}
