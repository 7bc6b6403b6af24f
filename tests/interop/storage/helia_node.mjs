// A loopback-only Helia node for the storage interop tests and the storage-net benchmark.
//
// Run with Node >= 22 (node_modules/.bin/node). Built from createHeliaLight + libp2p
// (tcp + noise + yamux + identify) + bitswap: no public gateways, no delegated routing, no
// bootstrap, no mDNS; it listens on 127.0.0.1 only. Chunking matches `ipfs add
// --cid-version=1` (256 KiB fixed chunks, raw leaves, balanced layout).
//
// Protocol: one JSON object per line on stdin, one JSON answer per line on stdout.
//   started:           {"peerId", "addrs"}                      (printed once at start)
//   {"cmd":"dial","addr"}                         -> {"ok":true}
//   {"cmd":"add","size","seed"}                   -> {"cid"}    (non-repeating bytes, see pattern)
//   {"cmd":"cat","cid","timeoutMs"}               -> {"size","sha256","ms","firstByteMs"}
//   {"cmd":"fetch","cid","timeoutMs"}             -> {"ms"}  (pins.add: every block, concurrently)
//   {"cmd":"stop"}                                -> {"ok":true}, then exits
// Errors: {"error": "..."}.
import { createHash } from 'node:crypto'
import { createInterface } from 'node:readline'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { withBitswap } from '@helia/bitswap'
import { withLibp2pLight } from '@helia/libp2p'
import { unixfs } from '@helia/unixfs'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createHeliaLight } from 'helia'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { CID } from 'multiformats/cid'

const CHUNK = 262144

// The same bytes as the Python tests' pattern(): sha256("<seed>-<i>") digests concatenated.
function pattern (size, seed) {
  const out = Buffer.alloc(size)
  let offset = 0
  for (let i = 0; offset < size; i++) {
    const digest = createHash('sha256').update(`${seed}-${i}`).digest()
    offset += digest.copy(out, offset, 0, Math.min(32, size - offset))
  }
  return out
}

const helia = withBitswap(withLibp2pLight(createHeliaLight({}), {
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: { identify: identify() }
}))
await helia.start()
const fs = unixfs(helia)

function send (obj) { process.stdout.write(JSON.stringify(obj) + '\n') }

send({
  peerId: helia.libp2p.peerId.toString(),
  addrs: helia.libp2p.getMultiaddrs().map(a => a.toString())
})

async function handle (req) {
  if (req.cmd === 'dial') {
    await helia.libp2p.dial(multiaddr(req.addr))
    return { ok: true }
  }
  if (req.cmd === 'add') {
    const cid = await fs.addBytes(pattern(req.size, req.seed), {
      cidVersion: 1,
      rawLeaves: true,
      chunker: fixedSize({ chunkSize: CHUNK }),
      reduceSingleLeafToSelf: true
    })
    return { cid: cid.toString() }
  }
  if (req.cmd === 'cat') {
    const hash = createHash('sha256')
    let size = 0
    let firstByteMs = null
    const start = performance.now()
    for await (const buf of fs.cat(CID.parse(req.cid), { signal: AbortSignal.timeout(req.timeoutMs ?? 30000) })) {
      if (firstByteMs === null) firstByteMs = performance.now() - start
      hash.update(buf)
      size += buf.byteLength
    }
    return { size, sha256: hash.digest('hex'), ms: performance.now() - start, firstByteMs }
  }
  if (req.cmd === 'fetch') {
    const start = performance.now()
    for await (const _ of helia.pins.add(CID.parse(req.cid), { signal: AbortSignal.timeout(req.timeoutMs ?? 30000) })) {
      // each yielded CID is a block now in the blockstore
    }
    return { ms: performance.now() - start }
  }
  if (req.cmd === 'stop') {
    await helia.stop()
    send({ ok: true })
    process.exit(0)
  }
  return { error: `unknown command ${req.cmd}` }
}

const lines = createInterface({ input: process.stdin })
for await (const line of lines) {
  if (!line.trim()) continue
  try {
    send(await handle(JSON.parse(line)))
  } catch (err) {
    send({ error: String(err?.stack ?? err) })
  }
}
await helia.stop()
process.exit(0)
