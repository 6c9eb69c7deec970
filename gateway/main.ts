import { serveGateway } from './serve.js';

// The PACS gateway process (`npm run gateway`).
await serveGateway();
