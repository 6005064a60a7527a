import { createSecureContext, type SecureContext } from 'node:tls';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import selfsigned from 'selfsigned';

/**
 * A local certificate authority for the simulated fediverse. Peers are served over real TLS with
 * certificates it signs; clients trust it through NODE_EXTRA_CA_CERTS, exactly as with a private CA.
 */
export interface Ca {
  cert: string;
  key: string;
  certPath: string;
}

const YEAR = 365 * 24 * 3600 * 1000;

export async function createCa(dir: string): Promise<Ca> {
  const now = Date.now();
  const pems = await selfsigned.generate(
    [{ name: 'commonName', value: 'fedipulse simulated fediverse CA' }],
    {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notBeforeDate: new Date(now - YEAR),
      notAfterDate: new Date(now + 5 * YEAR),
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }
      ]
    }
  );
  mkdirSync(dir, { recursive: true });
  const certPath = path.join(dir, 'sim-ca.pem');
  writeFileSync(certPath, pems.cert);
  return { cert: pems.cert, key: pems.private, certPath };
}

/** A leaf certificate for the given DNS names (wildcards allowed), signed by the CA. */
export async function issue(
  ca: Ca,
  names: string[],
  validFrom?: Date,
  validTo?: Date
): Promise<{ cert: string; key: string }> {
  const now = Date.now();
  const pems = await selfsigned.generate([{ name: 'commonName', value: names[0] }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: validFrom ?? new Date(now - 30 * 24 * 3600 * 1000),
    notAfterDate: validTo ?? new Date(now + YEAR),
    ca: { key: ca.key, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map((value) => ({ type: 2, value })) }
    ]
  });
  return { cert: pems.cert, key: pems.private };
}

/**
 * Certificates by server name: wildcard certificates cover whole zones (cheap at 100,000 hosts);
 * any other name gets its own certificate on first use, cached.
 */
export class CertStore {
  private readonly ca: Ca;
  private readonly zones = new Map<string, SecureContext>();
  private readonly hosts = new Map<string, Promise<SecureContext>>();
  /** Names that deliberately get a bad certificate (e.g. self-signed) are given by the peers model. */
  override?: (servername: string) => Promise<SecureContext | null> | SecureContext | null;
  constructor(ca: Ca) {
    this.ca = ca;
  }
  async addZones(zones: string[]): Promise<void> {
    // One certificate for all zones: *.zone and zone itself.
    const names = zones.flatMap((z) => [`*.${z}`, z]);
    const { cert, key } = await issue(this.ca, names);
    const ctx = createSecureContext({ cert, key });
    for (const z of zones) this.zones.set(z, ctx);
  }
  async contextFor(servername: string): Promise<SecureContext> {
    const name = servername.toLowerCase();
    const special = await this.override?.(name);
    if (special) return special;
    const dot = name.indexOf('.');
    const zone = dot >= 0 ? name.slice(dot + 1) : '';
    const zoneCtx = this.zones.get(zone) ?? this.zones.get(name);
    if (zoneCtx) return zoneCtx;
    let ctx = this.hosts.get(name);
    if (!ctx) {
      ctx = issue(this.ca, [name]).then(({ cert, key }) => createSecureContext({ cert, key }));
      this.hosts.set(name, ctx);
    }
    return ctx;
  }
}
