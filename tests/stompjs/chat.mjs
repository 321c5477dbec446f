// Drives the stock @stomp/stompjs client against the server, as an app would, and prints what
// it saw as one JSON line. Scenarios (first argument):
//   chat          connect, subscribe, send COUNT messages with receipts, receive them
//   resume        subscribe with OFFSET and EPOCH, receive COUNT messages
//   unauthorized  connect with TOKEN and report the ERROR frame
// Environment: URL (ws://host:port/ws), TOKEN, ROOM, COUNT, OFFSET, EPOCH.
import { Client } from '@stomp/stompjs';
import WebSocket from 'ws';

const scenario = process.argv[2];
const { URL, TOKEN, ROOM } = process.env;
const COUNT = Number(process.env.COUNT ?? '3');
const destination = `/topic/rooms/${ROOM}`;
const result = { scenario, received: [], receipts: [] };

const finish = (code) => {
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(code);
};
setTimeout(() => {
  result.error = 'timed out';
  finish(2);
}, 20000);

const client = new Client({
  webSocketFactory: () => new WebSocket(URL, ['v12.stomp', 'v11.stomp', 'v10.stomp']),
  connectHeaders: { Authorization: `Bearer ${TOKEN}` },
  heartbeatIncoming: 10000,
  heartbeatOutgoing: 10000,
  reconnectDelay: 0,
});

const record = (message) => {
  result.received.push({
    offset: Number(message.headers.offset),
    epoch: message.headers.epoch,
    resume: message.headers.resume ?? null,
    messageId: message.headers['message-id'],
    subscription: message.headers.subscription,
    text: JSON.parse(message.body).text,
  });
  if (result.received.length === COUNT) {
    client.deactivate().then(() => finish(0));
  }
};

client.onStompError = (frame) => {
  result.error = frame.headers.message;
  finish(scenario === 'unauthorized' ? 0 : 1);
};
client.onWebSocketClose = () => {
  if (scenario === 'unauthorized' && result.error) finish(0);
};

client.onConnect = (frame) => {
  result.version = frame.headers.version;
  result.heartBeat = frame.headers['heart-beat'];
  if (scenario === 'chat') {
    client.subscribe(destination, record, { id: 'sub-0' });
    for (let n = 0; n < COUNT; n++) {
      const receipt = `r-${n}`;
      client.watchForReceipt(receipt, (answer) => {
        result.receipts.push({ id: answer.headers['receipt-id'], offset: Number(answer.headers.offset) });
      });
      client.publish({ destination, body: `stompjs ${n} 안녕`, headers: { receipt } });
    }
  } else if (scenario === 'resume') {
    client.subscribe(destination, record, { offset: process.env.OFFSET, epoch: process.env.EPOCH });
  }
};

client.activate();
