import {
  createHash,
  createPrivateKey,
  createPublicKey,
  hkdfSync,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto';
import canonicalizeModule from 'canonicalize';

// canonicalize is CommonJS (module.exports = fn) but its types declare an ES default export.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Compares two secrets in time independent of where they differ (lengths are hashed away first). */
export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/** RFC 8785 JSON canonicalisation: the exact bytes that hashes and signatures cover. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('canonicalJson: value cannot be serialised');
  return text;
}

/** Derives an independent key per purpose from SUMMIT_SECRET, so no two features share key material. */
export function deriveKey(secret: string, purpose: string, length = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `summit:${purpose}`, length));
}

// PKCS#8 DER prefix for an Ed25519 private key; the 32-byte seed follows it.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export type SigningKey = { keyId: string; publicKeyPem: string; privateKey: KeyObject; publicKey: KeyObject };

/** An Ed25519 key derived from the server secret: auditors can verify checkpoints with the public key alone. */
export function deriveSigningKey(secret: string, purpose: string): SigningKey {
  const seed = deriveKey(secret, purpose, 32);
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  const publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const keyId = sha256Hex(publicKey.export({ format: 'der', type: 'spki' })).slice(0, 16);
  return { keyId, publicKeyPem, privateKey, publicKey };
}

export function signText(key: SigningKey, text: string): string {
  return sign(null, Buffer.from(text), key.privateKey).toString('base64url');
}

export function verifyText(key: Pick<SigningKey, 'publicKey'>, text: string, signature: string): boolean {
  try {
    return verify(null, Buffer.from(text), key.publicKey, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}
