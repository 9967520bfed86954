// The ACK-only MLLP peer of the ingest benchmark (bench/run-ingest.sh): @medplum/hl7's
// Hl7Server, which deframes and parses every message (Hl7Message.parse), answers each with an
// AA ACK built by Hl7Message.buildAck (MSA-2 = the message's MSH-10) and stores nothing. It is
// the reference the gateway's durable MLLP rate is compared with.
//
// Usage: node bench/mllp_ack_peer.mjs [--host=127.0.0.1] [--port=0]
// Prints `ready mllp=HOST:PORT` once listening (port 0 picks a free one); SIGTERM or SIGINT
// stops it (open connections are closed) and it exits 0. It binds only the given host
// (loopback by default).
const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const m = /^--([^=]+)=(.*)$/.exec(a);
  if (!m) { console.error(`usage: node mllp_ack_peer.mjs [--host=H] [--port=P]; got ${a}`); process.exit(64); }
  return [m[1], m[2]];
}));
const host = args.host ?? '127.0.0.1';
const port = Number(args.port ?? 0);

// @medplum/core 5 expects a global WebSocket (Node 22 has one; Node 20 does not). Nothing
// here opens one, so a placeholder class is enough.
if (!globalThis.WebSocket) globalThis.WebSocket = class {};
const { Hl7Server } = await import('@medplum/hl7');

let acked = 0;
const server = new Hl7Server((connection) => {
  connection.addEventListener('message', ({ message }) => {
    connection.send(message.buildAck());
    acked++;
  });
  // A client that goes away mid-run is not our concern: keep serving the others.
  connection.addEventListener('error', () => {});
});
// Hl7Server.start(port) hands its argument to net.Server.listen, which also takes
// { port, host }: that keeps the peer on loopback instead of every interface.
await server.start({ port, host });
const address = server.server.address();
console.log(`ready mllp=${address.address}:${address.port}`);

async function shutdown() {
  await server.stop({ forceDrainTimeoutMs: 0 }).catch(() => {});
  console.error(`mllp-ack-peer: ${acked} messages acknowledged`);
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
