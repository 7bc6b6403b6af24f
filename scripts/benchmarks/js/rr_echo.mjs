// The js-libp2p anchor of `scripts/bench rpc`: request/response round trips between two
// js-libp2p 3 nodes (tcp + noise + yamux, as ours) in this Node process, on 127.0.0.1 only.
// Node B echoes every byte it reads on /toktok/bench-echo/1.0.0. Node A measures, after
// `warmup` exchanges, `requests` sequential exchanges of `size` random bytes:
//   one_stream: all exchanges on one stream (what a request session does);
//   stream_per_exchange: a new stream per exchange (protocol negotiation, close).
// Prints one JSON line: {"one_stream": [ms...], "stream_per_exchange": [ms...]}.
// Usage: node rr_echo.mjs REQUESTS SIZE [WARMUP]
import { randomBytes } from 'node:crypto'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { Uint8ArrayList } from 'uint8arraylist'

const PROTOCOL = '/toktok/bench-echo/1.0.0'
const [requests, size, warmup] = [
  Number(process.argv[2] ?? 300),
  Number(process.argv[3] ?? 64),
  Number(process.argv[4] ?? 20)
]

const node = () =>
  createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })

// resolves with the next `n` bytes the stream delivers
function nextBytes (stream, n) {
  return new Promise((resolve, reject) => {
    const got = new Uint8ArrayList()
    const onMessage = (evt) => {
      got.append(evt.data)
      if (got.byteLength >= n) {
        stream.removeEventListener('message', onMessage)
        stream.removeEventListener('close', onClose)
        resolve(got.subarray())
      }
    }
    const onClose = () => reject(new Error('stream closed before the answer'))
    stream.addEventListener('message', onMessage)
    stream.addEventListener('close', onClose)
  })
}

async function exchange (stream, payload) {
  const answer = nextBytes(stream, payload.length)
  stream.send(payload)
  const got = await answer
  if (Buffer.compare(Buffer.from(got), payload) !== 0) throw new Error('echo differs')
}

const a = await node()
const b = await node()
await b.handle(PROTOCOL, async (stream) => {
  for await (const buf of stream) {
    stream.send(buf)
  }
  await stream.close()
})
await a.dial(b.getMultiaddrs()[0])
const payload = randomBytes(size)
const out = { one_stream: [], stream_per_exchange: [] }

const reused = await a.dialProtocol(b.peerId, PROTOCOL)
for (let i = 0; i < warmup + requests; i++) {
  const start = process.hrtime.bigint()
  await exchange(reused, payload)
  if (i >= warmup) out.one_stream.push(Number(process.hrtime.bigint() - start) / 1e6)
}
await reused.close()

for (let i = 0; i < warmup + requests; i++) {
  const start = process.hrtime.bigint()
  const stream = await a.dialProtocol(b.peerId, PROTOCOL)
  await exchange(stream, payload)
  await stream.close()
  if (i >= warmup) out.stream_per_exchange.push(Number(process.hrtime.bigint() - start) / 1e6)
}

process.stdout.write(JSON.stringify(out) + '\n')
await a.stop()
await b.stop()
