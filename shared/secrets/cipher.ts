/**
 * Encryption at rest for stream keys. One interface, two implementations:
 * - `LocalKeyFileCipher`: AES-256-GCM with a 32-byte key in a file created 0600 in the data dir.
 * - `KmsCipher` (aws runtime, added with the AWS engine): envelope encryption with KMS.
 * Ciphertexts are self-describing (`v1:<iv>:<tag>:<data>`, base64url) so the scheme can change later.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Secret } from './secret.ts';

export interface SecretCipher {
  encrypt(secret: Secret, context: string): Promise<string>;
  decrypt(ciphertext: string, context: string): Promise<Secret>;
}

export class LocalKeyFileCipher implements SecretCipher {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /** Opens the key file, creating it (mode 0600) with a fresh random key on first use. */
  static open(keyFile: string): LocalKeyFileCipher {
    if (!existsSync(keyFile)) {
      mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
      writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
    }
    chmodSync(keyFile, 0o600);
    const key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`key file ${keyFile} does not hold a 32-byte key`);
    return new LocalKeyFileCipher(key);
  }

  async encrypt(secret: Secret, context: string): Promise<string> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const data = Buffer.concat([cipher.update(secret.reveal(), 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join(':');
  }

  async decrypt(ciphertext: string, context: string): Promise<Secret> {
    const [version, iv, tag, data] = ciphertext.split(':');
    if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('unrecognised ciphertext format');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]);
    return new Secret(plain.toString('utf8'));
  }
}
