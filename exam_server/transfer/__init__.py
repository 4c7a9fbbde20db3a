"""Moving exams between the provincial hub and station nodes (统一鉴定试卷传输): signed envelopes, session
packages whose key is released at the start, and the release codes read out by phone when a node is offline.

No database and no Flask here: the same code builds on the hub and opens on the node, and the tests run it
without either."""
