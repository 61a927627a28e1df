// A tiny key-value store on IndexedDB (for saved models): mnistStore.get(key), .set(key, value).
"use strict";
(function () {
  const open = () => new Promise((resolve, reject) => {
    const req = indexedDB.open("wasmdl-demos", 1);
    req.onupgradeneeded = () => req.result.createObjectStore("files");
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  async function run(mode, fn) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction("files", mode);
      const req = fn(tx.objectStore("files"));
      tx.oncomplete = () => { db.close(); resolve(req.result); };
      tx.onerror = () => { db.close(); reject(tx.error); };
    });
  }
  self.mnistStore = {
    get: (key) => run("readonly", (s) => s.get(key)).catch(() => undefined),
    set: (key, value) => run("readwrite", (s) => s.put(value, key)),
  };
})();
