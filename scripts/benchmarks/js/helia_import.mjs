// Baseline for scripts/benchmarks/storage.py: Helia's UnixFS importer (ipfs-unixfs-importer)
// adding one file into a blockstore-fs store, with the parameters of
// `ipfs add --cid-version=1` (256 KiB fixed chunks, balanced layout of 174 links, raw leaves).
// Usage: node helia_import.mjs FILE BLOCKSTORE_DIR
// Prints one JSON line: {"cid": ..., "bytes": ..., "seconds": ...} (import time only).
import { createReadStream, statSync } from 'node:fs'
import { FsBlockstore } from 'blockstore-fs'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'

const [file, dir] = process.argv.slice(2)
if (!file || !dir) {
  console.error('usage: node helia_import.mjs FILE BLOCKSTORE_DIR')
  process.exit(2)
}
const blockstore = new FsBlockstore(dir)
await blockstore.open()
const started = process.hrtime.bigint()
let root
for await (const entry of importer(
  [{ content: createReadStream(file, { highWaterMark: 1 << 20 }) }],
  blockstore,
  {
    cidVersion: 1,
    rawLeaves: true,
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: 262144 }),
    layout: balanced({ maxChildrenPerNode: 174 })
  }
)) {
  root = entry.cid
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9
await blockstore.close()
console.log(JSON.stringify({ cid: root.toString(), bytes: statSync(file).size, seconds }))
