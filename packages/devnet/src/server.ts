import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Hex } from 'viem';
import type { DevnetBeacon } from './beacon.ts';
import { RpcError, type Devnet } from './devnet.ts';
import { isServedMethod } from './surface.ts';

/** Largest JSON-RPC body the server reads, in bytes. */
const MAX_BODY = 8 * 1024 * 1024;

interface JsonRpcReq { jsonrpc?: string; id?: unknown; method?: unknown; params?: unknown }

async function answer(devnet: Devnet, req: JsonRpcReq, plainEvm = false): Promise<object> {
  const id = req.id ?? null;
  if (typeof req.method !== 'string') return { jsonrpc: '2.0', id, error: { code: -32600, message: 'Invalid request: method must be a string' } };
  if (!isServedMethod(req.method, { geodeMethods: !plainEvm })) {
    // -32601 is JSON-RPC 2.0's "Method not found"; test and account methods are not part of the network surface.
    return {
      jsonrpc: '2.0', id,
      error: { code: -32601, message: `Method ${req.method} is not served over the devnet's RPC. It serves the standard eth_*, net_*, web3_* read and eth_sendRawTransaction methods and geode_* (see docs/security.md#devnet-rpc-surface); test methods work only in-process.` },
    };
  }
  if (req.method === 'eth_accounts') return { jsonrpc: '2.0', id, result: [] };
  try {
    const result = await devnet.request({ method: req.method, params: (req.params as unknown[]) ?? [] });
    return { jsonrpc: '2.0', id, result: result ?? null };
  } catch (e) {
    if (e instanceof RpcError) return { jsonrpc: '2.0', id, error: { code: e.code, message: e.message, data: e.data } };
    const code = (e as { code?: unknown }).code;
    return { jsonrpc: '2.0', id, error: { code: -32000, message: e instanceof Error ? e.message : String(e), data: typeof code === 'string' ? { code } : undefined } };
  }
}

async function handleBody(devnet: Devnet, body: string, plainEvm = false): Promise<object | object[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: body is not JSON' } };
  }
  if (Array.isArray(parsed)) return Promise.all(parsed.map((r) => answer(devnet, r as JsonRpcReq, plainEvm)));
  return answer(devnet, parsed as JsonRpcReq, plainEvm);
}

/**
 * GET routes of the devnet's Beacon API (ethereum/beacon-APIs): the light-client objects as `{"version","data"}`
 * (updates as an array) and `/eth/v1/beacon/genesis`, `/eth/v1/config/{fork_schedule,spec}` as `{"data"}`. Unknown or not-yet-available objects answer
 * 404, malformed query parameters 400, each with `{"code","message"}` as beacon nodes do.
 */
async function answerBeacon(beacon: DevnetBeacon, url: URL): Promise<{ status: number; body: unknown }> {
  const p = url.pathname.replace(/\/+$/, '');
  const lc = '/eth/v1/beacon/light_client';
  try {
    if (p === '/eth/v1/beacon/genesis') return { status: 200, body: { data: beacon.genesis() } };
    if (p === '/eth/v1/config/fork_schedule') return { status: 200, body: { data: beacon.forkSchedule() } };
    if (p === '/eth/v1/config/spec') return { status: 200, body: { data: beacon.spec() } };
    if (p === `${lc}/finality_update`) return { status: 200, body: await beacon.finalityUpdate() };
    if (p === `${lc}/optimistic_update`) return { status: 200, body: await beacon.optimisticUpdate() };
    const boot = p.match(/^\/eth\/v1\/beacon\/light_client\/bootstrap\/(0x[0-9a-fA-F]{64})$/);
    if (boot) return { status: 200, body: await beacon.bootstrap(boot[1] as Hex) };
    if (p === `${lc}/updates`) {
      const start = Number(url.searchParams.get('start_period'));
      const count = Number(url.searchParams.get('count'));
      if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(count) || count < 1 || count > 128) return { status: 400, body: { code: 400, message: 'start_period must be an integer >= 0 and count 1..128' } };
      return { status: 200, body: await beacon.updates(start, count) };
    }
    return { status: 404, body: { code: 404, message: `No Beacon API route ${p} on the devnet (it serves /eth/v1/beacon/genesis, /eth/v1/config/{fork_schedule,spec} and /eth/v1/beacon/light_client/*)` } };
  } catch (e) {
    if ((e as { code?: string }).code === 'DEVNET_BEACON_UNAVAILABLE') return { status: 404, body: { code: 404, message: (e as Error).message } };
    return { status: 500, body: { code: 500, message: e instanceof Error ? e.message : String(e) } };
  }
}

/** A devnet exposed over HTTP and WebSocket JSON-RPC on loopback. */
export interface DevnetServer {
  /** http://host:port */
  url: string;
  /** ws://host:port (same port; eth_subscribe pushes notifications) */
  wsUrl: string;
  close(): Promise<void>;
}

/**
 * Serve `devnet` on `host:port` (default 127.0.0.1 and an ephemeral port when port is 0). With `plainEvm`, the
 * geode_* methods are hidden so the endpoint behaves like any other EVM node.
 * Only the methods of SERVED_METHODS (surface.ts) and geode_* are answered; every other method (hardhat_*, evm_*,
 * debug_*, personal_*, eth_sendTransaction, ...) gets JSON-RPC error -32601 and reaches the chain not at all.
 * HTTP POST and WebSocket both speak JSON-RPC 2.0 (single and batch). Over WebSocket, eth_subscribe
 * (newHeads, logs) pushes `eth_subscription` notifications. With `beacon`, HTTP GET also serves its Beacon
 * light-client API (answerBeacon).
 */
export async function serveDevnet(devnet: Devnet, opts: { host?: string; port?: number; plainEvm?: boolean; beacon?: DevnetBeacon } = {}): Promise<DevnetServer> {
  // plainEvm hides the geode_* methods, so the devnet looks like any EVM node (tests of --rpc against other networks).
  const plain = !!opts.plainEvm;
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET' && opts.beacon && req.url?.startsWith('/eth/')) {
      void answerBeacon(opts.beacon, new URL(req.url, 'http://devnet')).then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'POST JSON-RPC requests' }));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on('end', async () => {
      const out = await handleBody(devnet, Buffer.concat(chunks).toString('utf8'), plain);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)));
    });
  });
  const wss = new WebSocketServer({ server, maxPayload: MAX_BODY });
  // ws re-emits the HTTP server's errors (a taken port) on itself; the listen promise below reports them, so an
  // unhandled 'error' here must not crash the process.
  wss.on('error', () => {});
  const internal = devnet as Devnet & { _subscribe(params: unknown[], route: (r: unknown) => void): Promise<Hex>; _unsubscribe(id: Hex): Promise<void> };
  wss.on('connection', (ws: WebSocket) => {
    const subs = new Set<Hex>();
    ws.on('message', async (data) => {
      const text = data.toString();
      let req: JsonRpcReq;
      try {
        req = JSON.parse(text) as JsonRpcReq;
      } catch {
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }));
        return;
      }
      if (!Array.isArray(req) && req.method === 'eth_subscribe') {
        try {
          const id = await internal._subscribe((req.params as unknown[]) ?? [], (result) => {
            if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'eth_subscription', params: { subscription: id, result } }));
          });
          subs.add(id);
          ws.send(JSON.stringify({ jsonrpc: '2.0', id: req.id ?? null, result: id }));
        } catch (e) {
          ws.send(JSON.stringify({ jsonrpc: '2.0', id: req.id ?? null, error: { code: -32000, message: String(e) } }));
        }
        return;
      }
      if (!Array.isArray(req) && req.method === 'eth_unsubscribe') {
        const id = ((req.params as unknown[]) ?? [])[0] as Hex;
        const had = subs.delete(id);
        if (had) await internal._unsubscribe(id);
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: req.id ?? null, result: had }));
        return;
      }
      ws.send(JSON.stringify(await handleBody(devnet, text, plain)));
    });
    ws.on('close', () => {
      for (const id of subs) void internal._unsubscribe(id);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const hostPart = host.includes(':') ? `[${host}]` : host; // IPv6 literals go in brackets in a URL (RFC 3986)
  return {
    url: `http://${hostPart}:${port}`,
    wsUrl: `ws://${hostPart}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => resolve());
        // Idle keep-alive sockets would otherwise stay open and leave clients waiting on a server that is gone.
        server.closeAllConnections();
      }),
  };
}
