// The outbox: every answer change is an operation kept in IndexedDB until the server acknowledges it, so a
// reload, a crash or a lost network never loses an answer. Operations are retried with the same op_id; the
// server applies each at most once and only if its seq is newer.
"use strict";

const Outbox = (() => {
  const DB_NAME = "exam-outbox", STORE = "ops";

  function open() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => {
        const store = request.result.createObjectStore(STORE, { keyPath: "op_id" });
        store.createIndex("attempt", "attempt_id");
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  function run(db, mode, work) {
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const result = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      tx.onerror = () => reject(tx.error);
    });
  }

  return class {
    static async open(attemptId) {
      const outbox = new this();
      outbox.db = await open();
      outbox.attemptId = attemptId;
      return outbox;
    }
    put(op) { return run(this.db, "readwrite", (s) => s.put(op)); }
    remove(opId) { return run(this.db, "readwrite", (s) => s.delete(opId)); }
    async pending() {
      const all = await run(this.db, "readonly", (s) => s.index("attempt").getAll(this.attemptId));
      return all.sort((a, b) => a.seq - b.seq);
    }
  };
})();
