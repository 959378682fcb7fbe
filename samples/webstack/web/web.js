// The web tier: proxies every request to the API over the "back" segment.
const http = require('node:http');

const api = process.env.API_URL ?? 'http://api:9000/';
http
  .createServer(async (req, res) => {
    try {
      const r = await fetch(new URL(req.url ?? '/', api));
      res.writeHead(r.status, { 'content-type': 'application/json' });
      res.end(await r.text());
    } catch (err) {
      res.writeHead(502);
      res.end(`api unreachable: ${err.message}\n`);
    }
  })
  .listen(8080, () => console.log('web listening on 8080'));
