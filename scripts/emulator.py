"""Starts moto in server mode on 127.0.0.1 with DynamoDB requests serialised.

moto's server handles requests on several threads, and its DynamoDB `TransactWriteItems` is
all-or-nothing but not isolated: two transactions racing on the same item can both pass their
conditions. DynamoDB's transactions are serialisable, and Guichet relies on that (exactly one
ticket per Idempotency-Key under concurrent duplicates, one open case per player). Serialising
DynamoDB requests here gives the emulator that guarantee without slowing the other services
(SQS long polling in particular keeps its own threads).

With that lock held, a transaction's rollback also needs no more than the items it touches:
see `patch_transactions` (moto 5.2.5 deep-copies the whole table, once per entry). And a Query
need not sort the whole table first: see `patch_queries`.

Usage: python scripts/emulator.py PORT
"""

import copy
import hashlib
import inspect
import sys
import threading

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import StreamShard, Table
from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

_dynamodb = threading.Lock()


def serialise_dynamodb(app):
    def wrapped(environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("DynamoDB_"):
            return app(environ, start_response)
        with _dynamodb:
            # Consume the response inside the lock: the operation runs while it is built.
            return list(app(environ, start_response))

    return wrapped


# ---- Transactions that cost what they touch ---------------------------------------------------
#
# moto 5.2.5's `DynamoDBBackend.transact_write_items` backs up every table an entry names with
# `copy.deepcopy(table)` (all its items and stream records), once per entry, before doing
# anything, and puts the copies back in `self.tables` when the transaction fails. With one table
# for everything, a six-item ticket intake at 10,000 tickets copied the whole table six times: the
# intake slowed with every ticket, and fifty concurrent duplicates took the emulator to 15 GB.
#
# The patch keeps moto's own function, and so all of its semantics (the per-entry conditions, the
# cancellation reasons and their order, ReturnValuesOnConditionCheckFailure, the validation
# errors), and replaces only its backup: before calling it, a copy of each item the entries name
# (by table and key, absent ones included) and the length of each named table's stream; while it
# runs, its `copy.deepcopy(table)` hands back the table itself, so its own rollback is a no-op;
# when it raises, exactly those items and streams are put back. That is the whole state a
# transaction changes: its entries write only their own keys (moto's Put, Update and Delete go
# through `Table.put_item`/`delete_item` and update items in place), plus one stream record per
# write. The DynamoDB lock above makes this safe: no other request can change an item between the
# copy and the restore.
#
# This patch and the Query one below rely on the code of the moto functions listed in
# `_RELIED_ON`: a moto whose code differs there refuses to start (see `check_moto_internals`),
# rather than quietly losing a patch or restoring the wrong things. After checking what changed,
# update the fingerprints.

_RELIED_ON = {
    # The backup this patch neutralises (`copy.deepcopy(self.tables[...])`) and moto's rollback.
    "DynamoDBBackend.transact_write_items": (
        DynamoDBBackend.transact_write_items,
        "81db2cb7d94e39c90b3a2077e1f4bb41a449c558ef9b1b1e2910fdaa39978ad4",
    ),
    # The writes a transaction's entries make.
    "DynamoDBBackend.put_item": (
        DynamoDBBackend.put_item,
        "f5d9a5042c77b89e5f4c88b5884f7966b9dccd95b8b04090ee9e07afc5eea675",
    ),
    "DynamoDBBackend.update_item": (
        DynamoDBBackend.update_item,
        "218984588dd689a5de81678ce11e6a40d05c91e7b6c21b44c4ed4122fe74aa9f",
    ),
    "DynamoDBBackend.delete_item": (
        DynamoDBBackend.delete_item,
        "083a4bb1af18f6fd2feef40195a4c9c803da66cb2cacd14f87916c6e76930ea5",
    ),
    # Where a table keeps its items: `items[hash]`, or `items[hash][range]` with a range key.
    "Table.get_item": (
        Table.get_item,
        "b08e98fe37b7e5836afe03b010d637ef50df5dea6cbecd9cf8816eef326a21cd",
    ),
    "Table.put_item": (
        Table.put_item,
        "de23933013ef842639046c19bcf7e418bce0474d810f6719368be4cedce11d47",
    ),
    "Table.delete_item": (
        Table.delete_item,
        "1594f7b07616c8cb8cdf0fbf58d6f54eeac83f25d7ac7b14e832a08e10efd8f9",
    ),
    # Query's candidates: `all_items()` (every item, sorted), filtered by the partition key
    # (table) or by the index's partition key conditions (index), then sorted again.
    "Table.query": (
        Table.query,
        "002b4d00be6df07cf37f6cbe0132e5eb89455ae12a8e79b23db3fb492450f21e",
    ),
    "Table.all_items": (
        Table.all_items,
        "c80d2ee3c896acd0cab6ca35aaeae3ab3fb65858933f8a3403d4e027c240f31d",
    ),
    # A stream's records: appended to `StreamShard.items`, numbered by their position.
    "StreamShard.add": (
        StreamShard.add,
        "357dc6da267e5dd7d46e18ee25d14b232a98679677906a2f02e4d454d1f11e03",
    ),
}


def _fingerprint(function) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


def check_moto_internals() -> None:
    """Refuses to start on a moto whose internals differ from those the patch was written for."""
    changed = [
        name
        for name, (function, expected) in _RELIED_ON.items()
        if _fingerprint(function) != expected
    ]
    if getattr(dynamodb_models, "copy", None) is not copy:
        changed.append("moto.dynamodb.models no longer uses the copy module as `copy`")
    if changed:
        sys.exit(
            "scripts/emulator.py: the moto internals its patches rely on changed ("
            + ", ".join(changed)
            + "). Check the patches against this moto's code, then update _RELIED_ON."
        )


_transaction = threading.local()


class _CopyKeepingTables:
    """Stands for the `copy` module in moto.dynamodb.models: while a patched transaction runs on
    this thread, deep-copying a table (moto's backup) returns the table itself; every other copy
    (an Update's copy of the old item for the stream, for one) is a real one."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(x, memo=None):
        if getattr(_transaction, "active", False) and isinstance(x, Table):
            return x
        return copy.deepcopy(x, memo)


class _Touched:
    """What a transaction may change, as it was before it started: each item its entries name
    (a deep copy: moto's Update changes the stored item in place), whether its range key's bucket
    existed (reading a missing key creates an empty one in moto's `defaultdict`), and each named
    table's stream records."""

    def __init__(self, backend, transact_items):
        self.items = {}
        self.streams = {}
        # Tables backed up whole, as moto does, for an entry whose key cannot be read here. moto
        # then fails that entry before writing it, so this is not expected to happen; it keeps the
        # rollback exact if it does.
        self.whole = {}
        for entry in transact_items:
            if not isinstance(entry, dict) or not entry:
                continue
            op_type, op = next(iter(entry.items()))
            if op_type not in ("Put", "Update", "Delete", "ConditionCheck"):
                continue  # moto writes nothing for it
            table = _table(backend, op)
            if table is None:
                continue  # nothing to write to
            self._stream(table)
            try:
                key = op["Item"] if op_type == "Put" else op["Key"]
                hash_key = DynamoType(key[table.hash_key_attr])
                range_key = (
                    DynamoType(key[table.range_key_attr])
                    if table.range_key_attr is not None
                    else None
                )
            except Exception:
                if id(table) not in self.whole:
                    self.whole[id(table)] = (table.name, copy.deepcopy(table))
                continue
            self._item(table, hash_key, range_key)

    def _stream(self, table):
        shard = table.stream_shard
        if shard is not None and id(table) not in self.streams:
            self.streams[id(table)] = (table, shard, shard.items, len(shard.items))

    def _item(self, table, hash_key, range_key):
        slot = (id(table), hash_key, range_key)
        if slot in self.items:
            return  # the first copy is the state before the transaction
        if range_key is None:
            bucket_existed = True
            current = table.items.get(hash_key)
        else:
            bucket = table.items.get(hash_key)  # .get: no empty bucket created here
            bucket_existed = bucket is not None
            current = bucket.get(range_key) if bucket is not None else None
        saved = copy.deepcopy(current) if current is not None else None
        self.items[slot] = (table, hash_key, range_key, bucket_existed, saved)

    def restore(self, backend):
        for name, table in self.whole.values():
            backend.tables[name] = table
        for table, hash_key, range_key, bucket_existed, saved in self.items.values():
            if id(table) in self.whole:
                continue
            if range_key is None:
                if saved is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = saved
            elif saved is not None:
                table.items[hash_key][range_key] = saved
            else:
                bucket = table.items.get(hash_key)
                if bucket is not None:
                    bucket.pop(range_key, None)
                    if not bucket and not bucket_existed:
                        del table.items[hash_key]
        for table, shard, records, length in self.streams.values():
            if id(table) in self.whole:
                continue
            table.stream_shard = shard
            # A new list, as the whole-table copy gave: a Lambda event source may hold the old one.
            shard.items = records[:length]


def _table(backend, op):
    name = op.get("TableName") if isinstance(op, dict) else None
    if not name:
        return None
    try:
        return backend.get_table(name)  # by name or ARN, as moto's entries find it
    except Exception:
        return None


def patch_transactions() -> None:
    moto_transact_write_items = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        touched = _Touched(self, transact_items)
        _transaction.active = True
        try:
            return moto_transact_write_items(self, transact_items)
        except BaseException:
            # moto rolls back on a cancellation and on its validation errors; restoring on any
            # exception also covers one it lets through after earlier entries were applied (two
            # operations in one entry), which DynamoDB would have refused whole.
            touched.restore(self)
            raise
        finally:
            _transaction.active = False

    transact_write_items.__doc__ = moto_transact_write_items.__doc__
    dynamodb_models.copy = _CopyKeepingTables()
    DynamoDBBackend.transact_write_items = transact_write_items


# ---- Queries that cost what they can match -----------------------------------------------------
#
# moto 5.2.5's `Table.query` takes its candidates from `all_items()`, which lists and sorts every
# item of the table (Python comparisons of DynamoType tuples), and only then keeps those of the
# queried partition: at 10,000 tickets a Query of one ticket's items took over a second, holding
# the DynamoDB lock, and every replayed request, consumer and outbox sweep made one. While moto's
# query runs, the patch has `all_items()` list only the items the query's own filter would keep,
# in the same sorted order (moto's own `all_items` sorts them): the queried partition's bucket for
# a table query, the items whose attributes match every partition key condition for an index
# query (still a pass over the table, but no sort of it). The rest of moto's query (sort key
# conditions, order, paging, filters, projections) runs unchanged on the same candidates.

_query = threading.local()


class _Items:
    """What moto's `Table.all_items` reads of a table: its items (some of them) and its schema."""

    def __init__(self, table, items):
        self.items = items
        self.range_key_attr = table.range_key_attr


def _matches(item, hash_conditions):
    # moto's own test in `Table.query`, condition for condition.
    for name, expected in hash_conditions:
        value = item.attrs.get(name)
        if not value or value != expected:
            return False
    return True


def _candidates(table, arguments):
    """The items of `table` that moto's query, called with `arguments`, can keep (as a table's
    `items`), or None for all of them."""
    if arguments.get("index_name"):
        # moto keeps one condition per attribute name (a dict), so does this.
        conditions = dict(arguments.get("hash_key_conditions") or []).items()
        if not conditions:
            return None
        if table.range_key_attr is None:
            return {h: i for h, i in table.items.items() if _matches(i, conditions)}
        kept = {}
        for h, bucket in table.items.items():
            matching = {r: i for r, i in bucket.items() if _matches(i, conditions)}
            if matching:
                kept[h] = matching
        return kept
    hash_key = arguments.get("hash_key")
    if hash_key is None:
        return None
    found = table.items.get(hash_key)  # .get: no empty bucket created here
    return {} if found is None else {hash_key: found}


def patch_queries() -> None:
    moto_query = Table.query
    moto_all_items = Table.all_items
    signature = inspect.signature(moto_query)

    def query(self, *args, **kwargs):
        arguments = signature.bind(self, *args, **kwargs).arguments
        _query.candidates = (self, _candidates(self, arguments))
        try:
            return moto_query(self, *args, **kwargs)
        finally:
            _query.candidates = None

    def all_items(self):
        table, candidates = getattr(_query, "candidates", None) or (None, None)
        if table is not self or candidates is None:
            return moto_all_items(self)
        # moto's own listing and sort, of the candidates only.
        return moto_all_items(_Items(self, candidates))

    Table.query = query
    Table.all_items = all_items


def main() -> None:
    port = int(sys.argv[1])
    check_moto_internals()
    patch_transactions()
    patch_queries()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        "127.0.0.1",
        port,
        serialise_dynamodb(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
