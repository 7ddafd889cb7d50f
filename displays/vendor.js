// Copies the front-end libraries HallQ serves into the folders it serves them from,
// with their licences. Run in displays/ after `npm ci`: `npm run vendor`. The copies are committed
// so a hall's server and edge nodes need neither npm nor the internet.
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");  // this file lives in displays/
const targets = ["displays/vendor", "server/hallq/web/static/vendor"];
const files = [
  ["node_modules/socket.io-client/dist/socket.io.min.js", "socket.io.min.js"],
  ["node_modules/socket.io-client/LICENSE", "socket.io-client.LICENSE"],
];

for (const target of targets) {
  fs.mkdirSync(path.join(root, target), { recursive: true });
  for (const [from, to] of files) {
    fs.copyFileSync(path.join(__dirname, from), path.join(root, target, to));
  }
  console.log(`vendored into ${target}`);
}
