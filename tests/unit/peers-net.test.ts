import { afterAll, describe, expect, it } from 'vitest';
import { createDispatcher } from '../../collectors/net/dispatcher.ts';
import { classifyError, safeGet } from '../../collectors/net/fetch.ts';
import { HostGate } from '../../collectors/net/gate.ts';

const peers = createDispatcher({ connectTo: [], allowPrivate: false, connections: 1 });
afterAll(() => peers.close());
const opts = { dispatcher: peers, userAgent: 'fedipulse/test', maxBytes: 1024, timeoutMs: 3000 };

describe('the peer dispatcher refuses non-public addresses', () => {
  it('a name resolving to loopback is refused_address (no connect-to rule maps it)', async () => {
    const r = await safeGet(new URL('https://localhost/.well-known/nodeinfo'), opts);
    expect(r).toMatchObject({ ok: false, outcome: 'refused_address' });
  });
  it('an IP-literal host is refused_address', async () => {
    const r = await safeGet(new URL('https://127.0.0.1/'), opts);
    expect(r).toMatchObject({ ok: false, outcome: 'refused_address' });
    const r6 = await safeGet(new URL('https://[::1]/'), opts);
    expect(r6).toMatchObject({ ok: false, outcome: 'refused_address' });
  });
  it('classifies transport errors by code', () => {
    expect(classifyError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('unreachable');
    expect(classifyError(Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' }))).toBe('timeout');
    expect(classifyError(Object.assign(new Error('x'), { code: 'CERT_HAS_EXPIRED' }))).toBe('tls_error');
    expect(classifyError(Object.assign(new Error('x'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }))).toBe(
      'tls_error'
    );
    const reset = Object.assign(
      new Error('Client network socket disconnected before secure TLS connection was established'),
      {
        code: 'ECONNRESET'
      }
    );
    expect(classifyError(reset)).toBe('unreachable');
    expect(classifyError(new DOMException('t', 'TimeoutError'))).toBe('timeout');
  });
});

describe('politeness gate', () => {
  it('one request in flight per host, a minimum interval between starts, other hosts in parallel', async () => {
    const gate = new HostGate(40);
    const log: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const starts: number[] = [];
    const job = (host: string) => async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (host === 'a.example') starts.push(performance.now());
      await new Promise((r) => setTimeout(r, 5));
      log.push(host);
      inFlight--;
    };
    await Promise.all([
      gate.run('a.example', job('a.example')),
      gate.run('a.example', job('a.example')),
      gate.run('a.example', job('a.example')),
      gate.run('b.example', job('b.example'))
    ]);
    expect(maxInFlight).toBe(2); // a and b together, never two of a
    expect(starts[1] - starts[0]).toBeGreaterThanOrEqual(39);
    expect(starts[2] - starts[1]).toBeGreaterThanOrEqual(39);
  });
});
