// Reference CIDs from ipfs-unixfs-importer (the importer inside Helia) for the interop test.
// Usage: node unixfs_cids.mjs '[{"size": 10, "chunk": 4, "links": 3, "version": 1}, ...]'
// Data of N bytes = first N bytes of sha256("toktok-vector-0") || sha256("toktok-vector-1") ...
// Prints a JSON array of CID strings, one per case.
import { createHash } from 'node:crypto'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'

function vectorBytes (size) {
  const out = Buffer.alloc(Math.ceil(size / 32) * 32)
  for (let i = 0; i * 32 < size; i++) {
    createHash('sha256').update(`toktok-vector-${i}`).digest().copy(out, i * 32)
  }
  return out.subarray(0, size)
}

const blockstore = { put: async (cid) => cid }
const results = []
for (const c of JSON.parse(process.argv[2])) {
  let root
  for await (const entry of importer([{ content: [vectorBytes(c.size)] }], blockstore, {
    cidVersion: c.version,
    rawLeaves: c.version === 1,
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: c.chunk }),
    layout: balanced({ maxChildrenPerNode: c.links })
  })) {
    root = entry.cid
  }
  results.push(root.toString())
}
console.log(JSON.stringify(results))
