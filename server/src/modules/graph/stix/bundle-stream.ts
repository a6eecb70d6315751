import { Tokenizer, TokenParser, TokenType, type ParsedTokenInfo } from '@streamparser/json';
import { quote } from './canonical.js';
import { typeOfIdentifier } from './object-fields.js';

/**
 * A STIX bundle read from a byte stream without holding the body as one string or building one tree of it: the
 * top level is followed token by token (type, id and spec_version kept; any other top-level member skipped without
 * being built), and each element of `objects` is assembled on its own and handed out as soon as it is complete.
 * Checks what makes the whole body unusable as early as the bytes allow (not JSON, not an object, not a bundle,
 * not STIX 2.1, objects not a list, nesting deeper than MAX_DEPTH) and says where, as a byte offset.
 */

/** STIX objects are shallow; a deeper value is an attack or a mistake, refused before it costs memory. */
export const MAX_DEPTH = 64;

export class BundleStreamError extends Error {
  constructor(
    readonly kind: 'malformed' | 'not-a-bundle',
    readonly reason: string,
    /** Byte offset in the body where the problem shows, when it has one. */
    readonly offset: number | null,
  ) {
    super(offset === null ? reason : `${reason} (at byte offset ${offset})`);
  }
}

export type StreamedObject = { index: number; object: unknown };
export type BundleHeader = { bundleId: string | null };

type Expect = 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'colon' | 'comma-or-close' | 'end';

function describeTop(token: TokenType): string {
  if (token === TokenType.LEFT_BRACKET) return 'a list';
  if (token === TokenType.NULL) return 'null';
  if (token === TokenType.STRING) return 'a string';
  if (token === TokenType.NUMBER) return 'a number';
  return 'a boolean';
}

const isScalar = (t: TokenType) => t === TokenType.STRING || t === TokenType.NUMBER || t === TokenType.TRUE || t === TokenType.FALSE || t === TokenType.NULL;
const NAMES: Partial<Record<TokenType, string>> = {
  [TokenType.LEFT_BRACE]: '"{"',
  [TokenType.RIGHT_BRACE]: '"}"',
  [TokenType.LEFT_BRACKET]: '"["',
  [TokenType.RIGHT_BRACKET]: '"]"',
  [TokenType.COLON]: '":"',
  [TokenType.COMMA]: '","',
};
const WANTED: Record<Expect, string> = {
  value: 'a value',
  'value-or-close': 'a value or "]"',
  key: 'a member name (a string)',
  'key-or-close': 'a member name or "}"',
  colon: '":"',
  'comma-or-close': '"," or the end of the list or object',
  end: 'the end of the body',
};

export function createBundleStreamReader() {
  const tokenizer = new Tokenizer();
  // The JSON grammar, checked for every token, so a skipped member is validated without being built.
  const containers: Array<'{' | '['> = [];
  let expect: Expect = 'value';
  // What the bundle reader makes of it.
  let key: string | null = null;
  let inObjects = false;
  let element: TokenParser | null = null;
  let lastOffset = 0;
  let bytes = 0;
  let index = 0;
  let out: StreamedObject[] = [];
  const header: { type?: unknown; id?: unknown; specVersion?: unknown } = {};

  const fail = (kind: BundleStreamError['kind'], reason: string, offset: number | null = lastOffset): never => {
    throw new BundleStreamError(kind, reason, offset);
  };

  function checkHeader() {
    if ('type' in header && header.type !== 'bundle') {
      const hint = typeof header.type === 'string' && header.type !== '' ? `; to import a single ${quote(header.type)} object, wrap it in a bundle` : '';
      fail('not-a-bundle', `expected "type": "bundle", got ${quote(header.type)}${hint}`);
    }
    // STIX 2.1 bundles carry no spec_version; STIX 2.0 bundles carry "2.0", and their objects lack what 2.1 requires.
    if (header.specVersion !== undefined && header.specVersion !== '2.1') {
      fail('not-a-bundle', `bundle spec_version ${quote(header.specVersion)} is not STIX 2.1; convert the bundle to STIX 2.1 first`);
    }
  }

  const afterValue = () => {
    expect = containers.length ? 'comma-or-close' : 'end';
  };
  const unexpected = (token: TokenType): never =>
    fail('malformed', `the body is not valid JSON: expected ${WANTED[expect]}, found ${NAMES[token] ?? describeTop(token).replace(/^a /, 'a ')}`);

  function followGrammar(token: TokenType) {
    switch (expect) {
      case 'value':
      case 'value-or-close':
        if (token === TokenType.RIGHT_BRACKET && expect === 'value-or-close') {
          containers.pop();
          afterValue();
        } else if (isScalar(token)) afterValue();
        else if (token === TokenType.LEFT_BRACE) {
          if (containers.push('{') > MAX_DEPTH) fail('malformed', `the body nests JSON deeper than ${MAX_DEPTH} levels`);
          expect = 'key-or-close';
        } else if (token === TokenType.LEFT_BRACKET) {
          if (containers.push('[') > MAX_DEPTH) fail('malformed', `the body nests JSON deeper than ${MAX_DEPTH} levels`);
          expect = 'value-or-close';
        } else unexpected(token);
        return;
      case 'key':
      case 'key-or-close':
        if (token === TokenType.RIGHT_BRACE && expect === 'key-or-close') {
          containers.pop();
          afterValue();
        } else if (token === TokenType.STRING) expect = 'colon';
        else unexpected(token);
        return;
      case 'colon':
        if (token !== TokenType.COLON) unexpected(token);
        expect = 'value';
        return;
      case 'comma-or-close': {
        const top = containers.at(-1);
        if (token === TokenType.COMMA) expect = top === '{' ? 'key' : 'value';
        else if ((token === TokenType.RIGHT_BRACE && top === '{') || (token === TokenType.RIGHT_BRACKET && top === '[')) {
          containers.pop();
          afterValue();
        } else unexpected(token);
        return;
      }
      case 'end':
        fail('malformed', 'the body has more content after the bundle ends');
    }
  }

  function startElement(info: ParsedTokenInfo) {
    const parser = new TokenParser({ paths: ['$'], keepStack: false });
    parser.onValue = ({ value }) => {
      out.push({ index: index++, object: value });
    };
    parser.onError = (err) => fail('malformed', `the body is not valid JSON: ${err.message}`);
    parser.onEnd = () => undefined;
    element = parser;
    parser.write(info);
  }

  function onToken(info: ParsedTokenInfo) {
    const { token, value, offset } = info;
    lastOffset = offset;
    if (expect === 'value' && containers.length === 0 && token !== TokenType.LEFT_BRACE) {
      fail('not-a-bundle', `expected a STIX bundle (a JSON object with "type": "bundle"), got ${describeTop(token)}`);
    }
    const depth = containers.length;
    const before = expect;
    followGrammar(token);

    if (element) {
      element.write(info);
      if (containers.length === 2) element = null;
      return;
    }
    if (depth === 1 && token === TokenType.STRING && (before === 'key' || before === 'key-or-close')) {
      key = value as string;
      return;
    }
    if (depth === 1 && before === 'value') {
      if (key === 'objects') {
        if (token === TokenType.LEFT_BRACKET) inObjects = true;
        else if (token !== TokenType.NULL) fail('not-a-bundle', 'bundle objects must be a list');
      } else if (key === 'type' || key === 'id' || key === 'spec_version') {
        const captured = isScalar(token) ? value : token === TokenType.LEFT_BRACE ? {} : [];
        if (key === 'type') header.type = captured;
        else if (key === 'id') header.id = captured;
        else header.specVersion = captured;
        checkHeader();
      }
      // Any other top-level member (x_ extensions, custom data) is checked as JSON but never built.
      return;
    }
    if (inObjects && depth === 2 && (before === 'value' || before === 'value-or-close')) {
      if (token === TokenType.RIGHT_BRACKET) inObjects = false;
      else if (isScalar(token)) out.push({ index: index++, object: value });
      else startElement(info);
      return;
    }
    if (inObjects && depth === 2 && token === TokenType.RIGHT_BRACKET) inObjects = false;
  }

  tokenizer.onToken = onToken;
  tokenizer.onError = (err) => {
    if (err instanceof BundleStreamError) throw err;
    const at = /absolute position "(\d+)"/.exec(err.message);
    throw new BundleStreamError('malformed', `the body is not valid JSON: ${err.message.replace(/ at chunk position.*$/, '')}`, at ? Number(at[1]) : lastOffset);
  };
  tokenizer.onEnd = () => undefined;

  return {
    /** Feeds the next bytes of the body; returns the objects they completed. Throws BundleStreamError. */
    write(chunk: Uint8Array): StreamedObject[] {
      out = [];
      tokenizer.write(chunk);
      bytes += chunk.byteLength;
      return out;
    },
    /** The body is over: returns the bundle's header, or throws when it was cut short or was not a bundle. */
    end(): BundleHeader {
      out = [];
      if (expect !== 'end') {
        fail('malformed', expect === 'value' && containers.length === 0 ? 'the body is empty' : 'the body ends before the bundle is complete (truncated?)', bytes);
      }
      if (!('type' in header)) fail('not-a-bundle', 'expected "type": "bundle", got no type', null);
      return { bundleId: typeOfIdentifier(header.id) === 'bundle' ? (header.id as string) : null };
    },
    /** Objects handed out so far. */
    get received() {
      return index;
    },
  };
}

export type BundleStreamReader = ReturnType<typeof createBundleStreamReader>;
