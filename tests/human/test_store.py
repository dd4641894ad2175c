"""The study store's one interface over SQLite and PostgreSQL: same rows, same schema
semantics, clear errors for a wrong --db."""

from __future__ import annotations

import sqlite3

import pytest

from evalkit.errors import UserError
from evalkit.human import db
from evalkit.human.store import is_postgres
from evalkit.human.store_postgres import describe, to_pyformat
from evalkit.human.study import create_study


def test_both_backends_answer_the_same_queries(target, runs):
    study = create_study(target, runs[:2], "ab", control_rate=0)
    with db.connect(target) as store:
        assert store.dialect == ("postgres" if is_postgres(target) else "sqlite")
        assert db.study_names(store) == ["ab"] and db.get_study(store).id == study.id
        rows = store.query("SELECT kind, count(*) AS n FROM tasks WHERE study_id = :s GROUP BY kind", {"s": study.id})
        assert rows == [{"kind": "regular", "n": 6}]
        assert store.scalar("SELECT count(*) FROM votes WHERE rater_id LIKE '%x%'") == 0  # a literal % survives
        assert store.one("SELECT 1 AS one WHERE 1 = 0") is None
        with pytest.raises(ZeroDivisionError):  # a failed transaction leaves nothing behind
            with store.transaction(lock=study.id):
                store.execute("INSERT INTO raters(study_id, rater_id, source, joined_at) VALUES (:s, 'x', 'typed', 0)",
                              {"s": study.id})
                raise ZeroDivisionError
        assert store.scalar("SELECT count(*) FROM raters") == 0


def test_creating_again_keeps_what_is_there(target, runs):
    create_study(target, runs[:2], "ab")
    with db.connect(target, create=True) as store:  # idempotent schema: a second creator changes nothing
        assert db.study_names(store) == ["ab"]


def test_a_wrong_db_is_one_clear_line(tmp_path, pg_cluster):
    with pytest.raises(UserError, match="no study database at"):
        db.connect(tmp_path / "missing.sqlite")
    with pytest.raises(UserError, match=r"mysql://\.\.\. is not supported"):
        db.connect("mysql://u@h/d")
    bad = pg_cluster.url("no_such_db").replace("evalkit@", "evalkit:s3cret@")
    with pytest.raises(UserError, match="cannot connect to PostgreSQL database no_such_db") as err:
        db.connect(bad)
    assert "s3cret" not in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(UserError, match="is not an evalkit study database"):
        db.connect(pg_cluster.url("postgres"))  # a database without our tables


def test_an_older_schema_is_refused_with_the_fix(tmp_path):
    old = tmp_path / "old.sqlite"
    conn = sqlite3.connect(old)
    conn.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); "
                       "INSERT INTO meta VALUES ('schema_version', '1');")
    conn.close()
    with pytest.raises(UserError, match="schema 1, this evalkit reads schema 2; recreate the study"):
        db.connect(old)


def test_parameters_translate_to_psycopg():
    assert to_pyformat("SELECT :a, 'x' LIKE '5%' WHERE x = :long_name AND y = a::int") == \
        "SELECT %(a)s, 'x' LIKE '5%%' WHERE x = %(long_name)s AND y = a::int"
    assert describe("postgresql://u:pw@db.example.org:6543/studies") == "PostgreSQL database studies on db.example.org:6543"
