// The API tier: answers with its hostname and uptime.
const http = require('node:http');
const os = require('node:os');

http
  .createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ zone: os.hostname(), path: req.url, uptime: process.uptime() }) + '\n');
  })
  .listen(9000, () => console.log('api listening on 9000'));
