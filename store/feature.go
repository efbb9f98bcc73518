package store

import (
	"context"
	"fmt"

	"github.com/marola-rp/klaxon/bot"
)

// Every feature's service holds a store typed for its own transaction
// (paging.Tx, incident.Tx, ...). *Tx implements all of them on one SQL
// transaction (the assertions beside each feature's methods check it at
// compile time), and Feature makes the database a store of any of them:
//
//	incidents := store.Feature(db, func(t *store.Tx) incident.Tx { return t })
//
// and each feature's file here has a method for it, e.g. db.Postmortem().

// Feature returns db as a store of transactions that offer T; as converts
// the concrete transaction, which the compiler checks where Feature is
// called.
func Feature[T any](db *DB, as func(*Tx) T) bot.TxStore[T] { return feature[T]{db: db, as: as} }

type feature[T any] struct {
	db *DB
	as func(*Tx) T
}

func (f feature[T]) Update(ctx context.Context, fn func(T) error) error {
	return f.db.update(ctx, func(tx *Tx) error { return fn(f.as(tx)) })
}

func (f feature[T]) View(ctx context.Context, fn func(T) error) error {
	return f.db.view(ctx, func(tx *Tx) error { return fn(f.as(tx)) })
}

func (f feature[T]) Join(tx bot.Tx) T { return f.as(join(tx)) }

// Join returns tx, which the core opened on db, as itself.
func (db *DB) Join(tx bot.Tx) bot.Tx { return join(tx) }

// join returns the concrete transaction behind tx. Every bot.Tx a hook is
// given comes from this package (the engine and ingest open them on a *DB),
// so anything else is a wiring mistake: a hook of one store handed a
// transaction of another kind.
func join(tx bot.Tx) *Tx {
	t, ok := tx.(*Tx)
	if !ok {
		panic(fmt.Sprintf("store: a hook was handed a %T, not a transaction of this store", tx))
	}
	return t
}
