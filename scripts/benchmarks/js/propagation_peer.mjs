// Worker process of `scripts/bench propagation`: hosts one or more js-libp2p 3 peers with
// @libp2p/gossipsub 17 (the reference implementation our peers are compared with).
// Same JSON-lines protocol as scripts/benchmarks/propagation_peers.py: one request
// {"id", "cmd", "args"} per line on stdin, one reply {"id", "ok", "result"|"message"} per line
// on stdout (possibly out of order). Timestamps are process.hrtime.bigint() (CLOCK_MONOTONIC
// on Linux, the clock of Python's time.monotonic_ns()). Listens on 127.0.0.1 (or, on the test
// bed, the `listen` multiaddr `start` is given: the host's 198.18.0.0/15 address); no
// bootstrap, no mDNS. The peers relay without feed validation (gossipsub's own signature
// check only): a message has reached a peer when gossipsub emits it.
// Run with Node >= 22 (node_modules/node/bin/node).
import { createHash } from 'node:crypto'
import { createInterface } from 'node:readline'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { gossipsub } from '@libp2p/gossipsub'
import { multiaddr } from '@multiformats/multiaddr'

const TOPIC = 'toktok/1/posts'

// Our peers' settings (peer/p2p/options.py GossipOptions), where js has the same knob.
export const GOSSIP_OPTIONS = {
  emitSelf: false,
  allowPublishToZeroTopicPeers: true,
  heartbeatInterval: 1000,
  D: 6,
  Dlo: 4,
  Dhi: 12,
  // py-libp2p publishes to mesh peers only; js floods its own messages by default
  floodPublish: false,
  // every benchmark peer shares 127.0.0.1: exempt loopback from the IP colocation penalty
  scoreParams: { IPColocationFactorWhitelist: new Set(['127.0.0.1']) }
}

const nodes = []
const received = []

const key = (data) => createHash('sha256').update(data).digest('hex').slice(0, 32)

async function startNode (index, listen) {
  const node = await createLibp2p({
    addresses: { listen: [listen] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), pubsub: gossipsub(GOSSIP_OPTIONS) }
  })
  node.services.pubsub.addEventListener('message', (event) => {
    const now = process.hrtime.bigint()
    received.push([key(event.detail.data), index, now.toString()])
  })
  node.services.pubsub.subscribe(TOPIC)
  return node
}

const commands = {
  start: async ({ count, listen = '/ip4/127.0.0.1/tcp/0' }) => {
    if (!/^\/ip4\/(127\.|198\.1[89]\.)/.test(listen)) throw new Error(`refusing to listen on ${listen}`)
    for (let i = 0; i < count; i++) nodes.push(await startNode(i, listen))
    return nodes.map((n) => ({
      peer_id: n.peerId.toString(),
      addrs: n.getMultiaddrs().map((a) => a.toString())
    }))
  },
  connect: async ({ host, addr }) => {
    const conn = await nodes[host].dial(multiaddr(addr))
    return conn.remotePeer.toString()
  },
  topic_peers: async () => nodes.map((n) => n.services.pubsub.getSubscribers(TOPIC).length),
  publish: async ({ host, data }) => {
    const bytes = Buffer.from(data, 'hex')
    const start = process.hrtime.bigint()
    await nodes[host].services.pubsub.publish(TOPIC, bytes)
    return Number(start)
  },
  received: async () => {
    const out = received.splice(0, received.length)
    return out.map(([k, host, t]) => [k, host, Number(t)])
  },
  stats: async () => nodes.map(() => ({})),
  clock: async () => Number(process.hrtime.bigint()),
  stop: async () => {
    await Promise.all(nodes.map((n) => n.stop()))
    return null
  }
}

const reply = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

async function run ({ id, cmd, args }) {
  try {
    const fn = commands[cmd]
    if (fn === undefined) throw new Error(`unknown command ${cmd}`)
    reply({ id, ok: true, result: await fn(args ?? {}) })
  } catch (err) {
    reply({ id, ok: false, message: `${err.name ?? 'Error'}: ${err.message ?? err}` })
  }
}

const lines = createInterface({ input: process.stdin })
for await (const line of lines) {
  const request = JSON.parse(line)
  if (request.cmd === 'stop') {
    await run(request)
    break
  }
  run(request)
}
process.exit(0)
