// Package simulator is an in-process imitation of the Rocket.Chat REST API
// (server behaviour of the 8.x line) for tests, benchmarks and demos.
//
// It serves the subset of endpoints an identity-governance connector uses,
// with the real server's status codes, error bodies, envelopes, projections,
// permission checks and rate limiter. The facts it follows are collected in
// the project's Rocket.Chat API notes, docs/rocketchat-api.md; where they leave a gap, Rocket.Chat's
// own source was the reference.
package simulator
