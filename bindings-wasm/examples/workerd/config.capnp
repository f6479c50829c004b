# A raw workerd config for a worker that uses cbreaker. Copy it and worker.mjs into a folder
# where `npm install cbreaker workerd` has run, then: npx workerd serve config.capnp
# It listens on 127.0.0.1:8080 and calls an upstream on 127.0.0.1:8081.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "upstream", external = (address = "127.0.0.1:8081", http = ())),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:8080", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    # cbreaker: each file of the package under the name its imports resolve to (a bare
    # specifier is a module name; a relative one resolves against the importing module's
    # name), and the .wasm as a `wasm` module (its import is a compiled WebAssembly.Module).
    (name = "cbreaker/web", esModule = embed "node_modules/cbreaker/dist/web.mjs"),
    (name = "cbreaker/layer.mjs", esModule = embed "node_modules/cbreaker/dist/layer.mjs"),
    (name = "cbreaker/web/cbreaker.js", esModule = embed "node_modules/cbreaker/dist/web/cbreaker.js"),
    (name = "cbreaker/cbreaker.wasm", wasm = embed "node_modules/cbreaker/dist/web/cbreaker_bg.wasm"),
  ],
  bindings = [ (name = "UPSTREAM", service = "upstream") ],
  compatibilityDate = "2024-09-23",
);
