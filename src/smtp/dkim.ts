/**
 * DKIM signing for own servers: the key (given or generated), the DNS record that publishes it,
 * and signing a composed message. nodemailer's own `dkim` option sends the message unsigned
 * when the key is bad; here a message that cannot be signed is not sent.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { namedExport } from '../cjs-export.ts';

export interface DkimKey {
  domain: string;
  selector: string;
  /** PEM. */
  privateKey: string;
}

export interface DkimInfo {
  domain: string;
  selector: string;
  dnsRecordName: string;
  dnsRecordValue: string;
}

const generate = promisify(generateKeyPair);

/** A fresh 2048-bit RSA key, as PKCS#8 PEM. */
export async function generateDkimPrivateKey(): Promise<string> {
  const { privateKey } = await generate('rsa', { modulusLength: 2048 });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * Checks a private key given by a user: PEM, RSA of 1024 bits or more (receivers ignore shorter
 * ones, RFC 8301) or Ed25519. Returns it as PKCS#8 PEM, or the problem (never the key).
 */
export function checkDkimPrivateKey(pem: string): { privateKey: string } | { problem: string } {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    // A passphrase-protected key: PKCS#8's ENCRYPTED PRIVATE KEY, or OpenSSL's traditional
    // Proc-Type header (Node fails both without naming the passphrase: "interrupted or cancelled").
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|^Proc-Type:\s*4,\s*ENCRYPTED/m.test(pem)) {
      return {
        problem:
          'is encrypted with a passphrase, which mailscope cannot use; give it unencrypted (e.g. openssl pkey -in key.pem -out plain.pem); it is stored encrypted with SECRETS_KEY',
      };
    }
    return {
      problem:
        'is not a PEM private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)',
    };
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 1024)
      return {
        problem: `is a ${bits}-bit RSA key; receivers ignore keys under 1024 bits, use 2048`,
      };
  } else if (key.asymmetricKeyType !== 'ed25519') {
    return { problem: `is a ${key.asymmetricKeyType ?? 'unknown'} key; DKIM takes RSA or Ed25519` };
  }
  return { privateKey: key.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** The TXT record that publishes the key's public half. */
export function dkimInfo(key: DkimKey): DkimInfo {
  const publicKey = createPublicKey(createPrivateKey(key.privateKey));
  const ed25519 = publicKey.asymmetricKeyType === 'ed25519';
  const der = publicKey.export({ type: 'spki', format: 'der' });
  // Ed25519 records carry the bare 32-byte key (RFC 8463), RSA ones the SubjectPublicKeyInfo.
  const p = (ed25519 ? der.subarray(der.length - 32) : der).toString('base64');
  return {
    domain: key.domain,
    selector: key.selector,
    dnsRecordName: `${key.selector}._domainkey.${key.domain}`,
    dnsRecordValue: `v=DKIM1; k=${ed25519 ? 'ed25519' : 'rsa'}; p=${p}`,
  };
}

export type SignResult = { ok: true; raw: Buffer } | { ok: false; reason: string };

/** The message with a DKIM-Signature header in front (relaxed/relaxed, SHA-256). */
export async function signMessage(raw: Buffer, key: DkimKey): Promise<SignResult> {
  let result: { signatures?: string; errors?: unknown[] | null };
  try {
    const algorithm =
      createPrivateKey(key.privateKey).asymmetricKeyType === 'ed25519'
        ? 'ed25519-sha256'
        : 'rsa-sha256';
    // Loaded on the first signature: mailauth's signer and its dependencies took ~0.5 s to load
    // (a third of start-up), and most installations never sign.
    const dkimSign = namedExport<typeof import('mailauth/lib/dkim/sign.js').dkimSign>(
      await import('mailauth/lib/dkim/sign.js'),
      'dkimSign',
    );
    result = await dkimSign(raw, {
      canonicalization: 'relaxed/relaxed',
      // Without signTime mailauth 4.13 reads the clock twice, for the hashed header and for the
      // header it returns: about one message in 200 straddled a second and failed to verify.
      signTime: new Date(),
      signatureData: [
        {
          signingDomain: key.domain,
          selector: key.selector,
          privateKey: key.privateKey,
          algorithm,
        },
      ],
    } as never);
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
  const errors = result.errors ?? [];
  const signature = result.signatures ?? '';
  if (errors.length > 0 || !/^DKIM-Signature:/i.test(signature)) {
    const first = errors[0] as { message?: string } | undefined;
    return { ok: false, reason: first?.message ?? 'no signature was produced' };
  }
  return { ok: true, raw: Buffer.concat([Buffer.from(signature, 'utf8'), raw]) };
}
