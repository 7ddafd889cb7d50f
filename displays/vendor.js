// Copies the front-end libraries HallQ serves into the folders it serves them from,
// with their licences. Run in displays/ after `npm ci`: `npm run vendor`. The copies are committed
// so a hall's server and edge nodes need neither npm nor the internet.
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");  // this file lives in displays/
const everywhere = ["displays/vendor", "server/hallq/web/static/vendor"];
const server = ["server/hallq/web/static/vendor"];  // the signed-in pages only
const files = [
  ["node_modules/socket.io-client/dist/socket.io.min.js", "socket.io.min.js", everywhere],
  ["node_modules/socket.io-client/LICENSE", "socket.io-client.LICENSE", everywhere],
  ["node_modules/echarts/dist/echarts.min.js", "echarts.min.js", server],  // the statistics page's charts
  ["node_modules/echarts/LICENSE", "echarts.LICENSE", server],
  ["node_modules/echarts/NOTICE", "echarts.NOTICE", server],
];

for (const [from, to, targets] of files) {
  for (const target of targets) {
    fs.mkdirSync(path.join(root, target), { recursive: true });
    fs.copyFileSync(path.join(__dirname, from), path.join(root, target, to));
  }
}
console.log("vendored: " + files.map(([, to, targets]) => `${to} → ${targets.join(", ")}`).join("; "));
