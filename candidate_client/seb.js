"use strict";
// Safe Exam Browser: when SEB gives scripts its config-key hash (of this page's URL), send it with the page URL on
// every request and in the socket's auth; the server checks it when the exam requires SEB (exam_server/seb.py).
window.sebProof = () => {
  const security = window.SafeExamBrowser && window.SafeExamBrowser.security;
  return security && security.configKey ? { url: location.href.split("#")[0], hash: security.configKey } : null;
};
window.sebHeaders = () => {
  const proof = window.sebProof();
  return proof ? { "X-Exam-Seb-Config-Key-Hash": proof.hash, "X-Exam-Seb-Page-Url": proof.url } : {};
};
