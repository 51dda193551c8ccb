/**
 * Stream-key encryption on AWS: KMS Encrypt/Decrypt with the destination id as encryption
 * context (a ciphertext copied to another destination does not decrypt). Stream keys are far
 * below KMS's 4 KiB plaintext limit, so no envelope key is needed.
 */
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import type { SecretCipher } from './cipher.ts';
import { Secret } from './secret.ts';

export class KmsCipher implements SecretCipher {
  constructor(
    private readonly client: KMSClient,
    private readonly keyId: string,
  ) {}

  static create(keyId: string, region: string): KmsCipher {
    return new KmsCipher(new KMSClient({ region }), keyId);
  }

  async encrypt(secret: Secret, context: string): Promise<string> {
    const out = await this.client.send(new EncryptCommand({ KeyId: this.keyId, Plaintext: Buffer.from(secret.reveal(), 'utf8'), EncryptionContext: { fanout: context } }));
    return `kms1:${Buffer.from(out.CiphertextBlob!).toString('base64url')}`;
  }

  async decrypt(ciphertext: string, context: string): Promise<Secret> {
    const [scheme, blob] = ciphertext.split(':');
    if (scheme !== 'kms1' || !blob) throw new Error('unrecognised ciphertext format');
    const out = await this.client.send(new DecryptCommand({ KeyId: this.keyId, CiphertextBlob: Buffer.from(blob, 'base64url'), EncryptionContext: { fanout: context } }));
    return new Secret(Buffer.from(out.Plaintext!).toString('utf8'));
  }
}
