// Preloaded into NNI's Node.js server by pnag_sampler.adapters.nni.loopback_only():
// listen(port[, callback]) binds every interface; bind it to 127.0.0.1 instead.
const net = require("net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number" && (args.length === 1 || typeof args[1] === "function")) {
    args.splice(1, 0, "127.0.0.1");
  }
  return listen.apply(this, args);
};
