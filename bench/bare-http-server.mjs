// The floor for the ack benchmark: a Node HTTP server that reads the body and answers 200 empty.
import { createServer } from 'node:http';

const server = createServer((request, response) => {
  request.resume();
  request.on('end', () => response.end(''));
});
server.listen(Number(process.argv[2]), '127.0.0.1', () => console.log('listening'));
