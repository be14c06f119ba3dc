"""Server-rendered pages of the core loop, one module per role. Every object is fetched through
a selector scoped to the user: anything outside it is a 404."""
