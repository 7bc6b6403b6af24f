// A js-libp2p 3 + @libp2p/gossipsub 17 peer on loopback, driven by JSON lines on stdin/stdout
// (one request per line: {"id", "cmd", "args"}; one reply per line: {"id", "ok", "result"|"error"}).
// Used by tests/interop/p2p to check that our py-libp2p host and js-libp2p exchange gossipsub
// messages in both directions. Listens on 127.0.0.1 only; no bootstrap, no mDNS.
import './polyfill.mjs'
import { createInterface } from 'node:readline'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { gossipsub } from '@libp2p/gossipsub'
import { multiaddr } from '@multiformats/multiaddr'

const node = await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: {
    identify: identify(),
    pubsub: gossipsub({
      emitSelf: false,
      allowPublishToZeroTopicPeers: true,
      heartbeatInterval: 1000,
      // every test peer shares 127.0.0.1: exempt loopback from the IP colocation penalty
      scoreParams: { IPColocationFactorWhitelist: new Set(['127.0.0.1']) }
    })
  }
})

const received = new Map()
node.services.pubsub.addEventListener('message', (event) => {
  const msg = event.detail
  if (!received.has(msg.topic)) received.set(msg.topic, [])
  received.get(msg.topic).push({
    from_peer: msg.type === 'signed' ? msg.from.toString() : '',
    data: Buffer.from(msg.data).toString('hex'),
    topic: msg.topic
  })
})

const commands = {
  info: async () => ({
    peer_id: node.peerId.toString(),
    addrs: node.getMultiaddrs().map((a) => a.toString())
  }),
  connect: async ({ addr }) => {
    const conn = await node.dial(multiaddr(addr))
    return conn.remotePeer.toString()
  },
  subscribe: async ({ topic }) => { node.services.pubsub.subscribe(topic); return null },
  topic_peers: async ({ topic }) =>
    node.services.pubsub.getSubscribers(topic).map((p) => p.toString()),
  mesh_peers: async ({ topic }) => node.services.pubsub.getMeshPeers(topic),
  publish: async ({ topic, data }) => {
    const result = await node.services.pubsub.publish(topic, Buffer.from(data, 'hex'))
    return result.recipients.map((p) => p.toString())
  },
  received: async ({ topic }) => {
    const out = received.get(topic) ?? []
    received.set(topic, [])
    return out
  },
  stop: async () => { await node.stop(); return null }
}

const lines = createInterface({ input: process.stdin })
for await (const line of lines) {
  const { id, cmd, args } = JSON.parse(line)
  let reply
  try {
    const fn = commands[cmd]
    if (fn === undefined) throw new Error(`unknown command ${cmd}`)
    reply = { id, ok: true, result: await fn(args ?? {}) }
  } catch (err) {
    reply = { id, ok: false, error: err.name ?? 'Error', message: String(err.message ?? err) }
  }
  process.stdout.write(JSON.stringify(reply) + '\n')
  if (cmd === 'stop') break
}
process.exit(0)
