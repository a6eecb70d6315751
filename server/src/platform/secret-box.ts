import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretUnreadableError extends Error {
  constructor() {
    super('the stored secret cannot be decrypted with this server\'s key (was SUMMIT_SECRET changed?)');
    this.name = 'SecretUnreadableError';
  }
}

/**
 * AES-256-GCM for secrets the server must read back (webhook signing secrets), as
 * `v1.<iv>.<tag>.<ciphertext>` in base64url. The context (tenant and row id) is bound in as associated data, so a
 * sealed value copied to another row or tenant does not open. The version prefix leaves room for key rotation.
 */
export function createSecretBox(key: Buffer) {
  if (key.length !== 32) throw new Error('createSecretBox: AES-256 needs a 32-byte key');

  function seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), ciphertext].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
  }

  function open(sealed: string, context: string): string {
    const [version, iv, tag, ciphertext, ...rest] = sealed.split('.');
    if (version !== VERSION || !iv || !tag || ciphertext === undefined || rest.length) throw new SecretUnreadableError();
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretUnreadableError();
    }
  }

  return { seal, open };
}

export type SecretBox = ReturnType<typeof createSecretBox>;
