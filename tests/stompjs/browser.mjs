// Runs the stock @stomp/stompjs browser bundle in headless Chromium (Debian's, installed by the
// test command) against the server: a page served from an origin of its own connects with the
// browser's own WebSocket, subscribes, sends COUNT messages with receipts and receives them.
// Prints what the page saw as one JSON line.
// Environment: URL (ws://host:port/ws), TOKEN, ROOM, COUNT, PAGE_PORT.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const bundle = readFileSync(new URL('./node_modules/@stomp/stompjs/bundles/stomp.umd.min.js', import.meta.url));
const page = `<!doctype html><meta charset="utf-8"><script src="/stomp.js"></script><script>
window.result = null;
const params = new URLSearchParams(location.search);
const count = Number(params.get('count'));
const destination = '/topic/rooms/' + params.get('room');
const received = [];
const receipts = [];
const client = new StompJs.Client({
  brokerURL: params.get('url'),
  connectHeaders: { Authorization: 'Bearer ' + params.get('token') },
  reconnectDelay: 0,
});
client.onStompError = (frame) => { window.result = { error: frame.headers.message }; };
client.onConnect = (frame) => {
  client.subscribe(destination, (message) => {
    received.push({ offset: Number(message.headers.offset), text: JSON.parse(message.body).text });
    if (received.length === count) window.result = { version: frame.headers.version, received, receipts };
  });
  for (let n = 0; n < count; n++) {
    const receipt = 'r-' + n;
    client.watchForReceipt(receipt, (answer) => receipts.push(Number(answer.headers.offset)));
    client.publish({ destination, body: 'browser ' + n, headers: { receipt } });
  }
};
client.activate();
</script>`;

const server = http.createServer((request, response) => {
  if (request.url.startsWith('/stomp.js')) {
    response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
  } else {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
  }
});
const port = Number(process.env.PAGE_PORT);
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
let result;
try {
  const tab = await browser.newPage();
  const query = new URLSearchParams({ url: process.env.URL, token: process.env.TOKEN, room: process.env.ROOM,
    count: process.env.COUNT ?? '3' });
  await tab.goto(`http://127.0.0.1:${port}/?${query}`);
  await tab.waitForFunction(() => window.result !== null, null, { timeout: 20000 });
  result = await tab.evaluate(() => window.result);
} catch (error) {
  result = { error: String(error) };
} finally {
  await browser.close();
  server.close();
}
process.stdout.write(JSON.stringify(result) + '\n');
process.exit(result.error ? 1 : 0);
