// The js-ipfs daemon for the tests: what `jsipfs daemon --enable-preload=false` does, plus
// yamux beside js-ipfs' own mplex (Toktok's libp2p host speaks yamux only).
// Needs IPFS_PATH (an initialised repo) and, on Node 20, NODE_OPTIONS="--import ./polyfill.mjs".
// Prints "Swarm listening on <addr>", "HTTP API listening on <addr>", then "Daemon is ready".
import { yamux } from '@chainsafe/libp2p-yamux'
import { Daemon } from 'ipfs-daemon'
import { createLibp2p } from 'libp2p'

const daemon = new Daemon({
  repo: process.env.IPFS_PATH,
  preload: { enabled: false },
  libp2p: async ({ libp2pOptions }) => {
    libp2pOptions.streamMuxers = [yamux(), ...(libp2pOptions.streamMuxers ?? [])]
    return createLibp2p(libp2pOptions)
  }
})
await daemon.start()
for (const addr of daemon._ipfs.libp2p.getMultiaddrs()) {
  console.log(`Swarm listening on ${addr.toString()}`)
}
for (const server of daemon._httpApi._apiServers) {
  console.log(`HTTP API listening on ${server.info.ma}`)
}
console.log('Daemon is ready')

async function stop () {
  await daemon.stop()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
