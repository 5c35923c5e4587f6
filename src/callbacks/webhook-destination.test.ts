import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DestinationGuard, DestinationRefusedError, parseCidr, type Resolve } from './webhook-destination.js';

const fakeDns: Resolve = async (host) => {
  const table: Record<string, string[]> = {
    'public.example': ['93.184.216.34'],
    'rebind.example': ['93.184.216.34', '10.0.0.5'],
    'v6.example': ['2606:4700::1111'],
    'metadata.example': ['169.254.169.254'],
  };
  const found = table[host];
  if (!found) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

const strict = new DestinationGuard({ allowHttp: false, allowedNetworks: [] }, fakeDns);
const open = new DestinationGuard({ allowHttp: true, allowedNetworks: [] }, fakeDns);

test('refuses every non-public destination, by literal or by name', async () => {
  const refused = [
    { url: 'http://public.example/', reason: 'http without allowHttp', guard: strict },
    { url: 'https://user:pw@public.example/', reason: 'credentials in the URL', guard: strict },
    { url: 'ftp://public.example/', reason: 'not http(s)', guard: open },
    { url: 'http://127.0.0.1/', reason: 'loopback', guard: open },
    { url: 'http://127.8.9.10:8080/', reason: 'loopback /8', guard: open },
    { url: 'http://[::1]/', reason: 'IPv6 loopback', guard: open },
    { url: 'http://10.1.2.3/', reason: 'private', guard: open },
    { url: 'http://172.20.0.1/', reason: 'private', guard: open },
    { url: 'http://192.168.1.1/', reason: 'private', guard: open },
    { url: 'http://100.100.100.200/', reason: 'shared address space (metadata)', guard: open },
    { url: 'http://169.254.169.254/latest/meta-data', reason: 'link-local metadata', guard: open },
    { url: 'http://[fd00:ec2::254]/', reason: 'IPv6 metadata', guard: open },
    { url: 'http://[fe80::1]/', reason: 'IPv6 link-local', guard: open },
    { url: 'http://[::ffff:127.0.0.1]/', reason: 'IPv4-mapped loopback', guard: open },
    { url: 'http://0.0.0.0/', reason: 'unspecified', guard: open },
    { url: 'http://2130706433/', reason: 'decimal loopback (the URL parser normalises it)', guard: open },
    { url: 'http://metadata.example/', reason: 'a name resolving to metadata', guard: open },
    {
      url: 'http://rebind.example/',
      reason: 'a name with one private address among public ones',
      guard: open,
    },
  ];
  for (const { url, reason, guard } of refused) {
    await assert.rejects(guard.check(new URL(url)), DestinationRefusedError, reason);
  }
});

test('a real host name that resolves to 127.0.0.1 is refused unless its network is allowed', async () => {
  const system = new DestinationGuard({ allowHttp: true, allowedNetworks: [] });
  await assert.rejects(
    system.check(new URL('http://localhost:9/')),
    /localhost resolves to (127\.0\.0\.1|::1)/,
  );
  const allowed = new DestinationGuard({ allowHttp: true, allowedNetworks: ['127.0.0.0/8', '::1/128'] });
  const pinned = await allowed.check(new URL('http://localhost:9/'));
  assert.ok(['127.0.0.1', '::1'].includes(pinned.address));
});

test('public destinations pass and are pinned to the checked address', async () => {
  assert.deepEqual(await strict.check(new URL('https://public.example/hook')), {
    address: '93.184.216.34',
    family: 4,
  });
  assert.equal((await strict.check(new URL('https://v6.example/'))).family, 6);
  assert.equal((await strict.check(new URL('https://8.8.8.8/'))).address, '8.8.8.8');
  await assert.rejects(strict.check(new URL('https://nowhere.example/')), /ENOTFOUND/);
});

test('CIDRs parse or are rejected', () => {
  assert.deepEqual(parseCidr('127.0.0.0/8'), { net: '127.0.0.0', prefix: 8, family: 4 });
  assert.deepEqual(parseCidr('fd00::/8'), { net: 'fd00::', prefix: 8, family: 6 });
  for (const bad of ['127.0.0.0', '127.0.0.0/33', 'fd00::/129', 'host/8', '']) {
    assert.equal(parseCidr(bad), undefined, bad);
  }
});
