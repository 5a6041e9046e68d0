"""SQL-level A/B of the issue-18 second pass (BENCHMARKS.md, "Issue 18, second
pass"): the SQL authgraph wrote before and after for each changed list query,
on 100,000 rows shaped as examples/query_bench.rs seeds them, timed in process
by SQLite alone (apsw's bundled SQLite; `pip install apsw`), as CPU time of
this process (a loaded machine stretches wall time, less so CPU time); median
of up to 15 runs (>= 3, <= 1.5 s). Run it under the bench lock:
    flock /work/bench.lock python bench/sql_ab.py [db path]
Prints a markdown table: label | total | offset | ms (page + count) | count ms
| rows | plan."""
import apsw, json, time, os, sys
p=sys.argv[1] if len(sys.argv) > 1 else '/tmp/authgraph-sql-ab.db'
N=100000
TY="(CASE WHEN json_type(data, '$.\"age\"') IN ('integer', 'real') THEN json_extract(data, '$.\"age\"') END)"
if not os.path.exists(p):
    db=apsw.Connection(p)
    db.execute("create table collections(id text primary key, project_id text, name text)")
    db.execute("insert into collections values('c1','p1','users'),('c2','p1','admins')")
    db.execute("create table users(id text primary key, project_id text, collection_id text, data text, created_at text)")
    db.execute("create index ix_users_collection_created_id on users(collection_id, created_at, id)")
    db.execute("create index ixt2_city on users(collection_id, json_extract(data, '$.\"city\"'), created_at, id)")
    db.execute("begin")
    for k in range(N):
        d={"city":f"City{k%50}","age":18+(k*7919)%60,"name":f"Name{k} Family{k%1000}"}
        if k>0:
            d["referred_by"]=f"u{k//2:014}"; d["following"]=[f"u{(k*31)%k:014}",f"u{(k*17)%k:014}",f"u{k-1:014}"]
        db.execute("insert into users values(?,?,?,?,?)",(f"u{k:014}","p1","c1",json.dumps(d),str(1700000000+k)))
    db.execute("commit")
db=apsw.Connection(p)
def setidx(kind):
    db.execute("drop index if exists ixv2_age"); db.execute("drop index if exists ixv3_age")
    if kind=='old': db.execute(f"create index ixv2_age on users(collection_id, {TY}, created_at, id)")
    else: db.execute(f"create index ixv3_age on users(collection_id, {TY}, id DESC)")
    db.execute("analyze")
def t(q, args=()):
    db.execute("select 1").fetchall()
    ts=[]; start=time.perf_counter()
    while len(ts)<15 and (len(ts)<3 or time.perf_counter()-start<1.5):
        t0=time.process_time(); r=db.execute(q,args).fetchall(); ts.append(time.process_time()-t0)
    ts.sort(); return ts[len(ts)//2]*1000, len(r) if not q.startswith("select count") else r[0][0]
def plan(q,args=()):
    return "; ".join(r[3] for r in db.execute("explain query plan "+q,args).fetchall())
CITY="(json_extract(users.data, '$.\"city\"') = ?)"
rel_old="(EXISTS (SELECT 1 FROM json_each(users.data, '$.\"referred_by\"') ids JOIN users rel1 ON rel1.id = ids.value WHERE rel1.project_id = users.project_id AND (json_extract(rel1.data, '$.\"city\"') = ?)))"
sub="SELECT rel1.id FROM users rel1 WHERE rel1.collection_id IN (SELECT c.id FROM collections c WHERE c.project_id = 'p1') AND (json_extract(rel1.data, '$.\"city\"') = ?)"
rel_new=f"(EXISTS (SELECT 1 FROM json_each(users.data, '$.\"referred_by\"') ids WHERE ids.value IN ({sub})))"
NM="'$.\"name\"'"
con_old=f"(CASE json_type(users.data, {NM}) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(users.data, {NM}) e WHERE CAST(e.value AS TEXT) = ?) WHEN 'text' THEN (instr(json_extract(users.data, {NM}), ?) > 0) ELSE 0 END)"
con_new=f"(instr(users.data, ?) > 0 AND CASE json_type(users.data, {NM}) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(users.data, {NM}) e WHERE CAST(e.value AS TEXT) = ?) WHEN 'text' THEN (instr(json_extract(users.data, {NM}), ?) > 0) ELSE 0 END)"
icon_old=f"(json_type(users.data, {NM}) = 'text' AND (instr(lower(json_extract(users.data, {NM})), ?) > 0))"
icon_new=f"(users.data LIKE ? AND json_type(users.data, {NM}) = 'text' AND (instr(lower(json_extract(users.data, {NM})), ?) > 0))"
rows=[]
def case(label, cond, args, order, idx=None):
    for total in (False, True):
        for off in (0, 5000):
            q=f"select * from users where users.collection_id = 'c1' and {cond} order by {order} limit 50 offset {off}"
            ms,n=t(q,args)
            cms=0
            if total:
                cq=f"select count(*) from (select 1 from users where users.collection_id = 'c1' and {cond})"
                cms,cn=t(cq,args)
            rows.append((label, total, off, ms, plan(q,args)[:150]))
            print(f"| {label} | {'yes' if total else 'no'} | {off} | {ms+cms:.2f} | {cms:.2f} | {n} | {rows[-1][4]} |", flush=True)
NEW="users.created_at DESC, users.id DESC"
AGE=f"{TY} ASC, users.id DESC"
print("load", os.getloadavg())
case("relation, old (correlated EXISTS)", rel_old, ("City7",), NEW)
case("relation, new (semi-join)", rel_new, ("City7",), NEW)
case("name contains, old", con_old, ("Family999","Family999"), NEW)
case("name contains, new", con_new, ("Family999","Family999","Family999"), NEW)
case("name icontains, old", icon_old, ("family999",), NEW)
case("name icontains, new", icon_new, ("%family999%","family999"), NEW)
for kind in ("old","new"):
    setidx(kind)
    rng=f"({TY} >= ?) AND ({TY} < ?)"
    case(f"age range by age, {kind} index", rng, (30,32), AGE)
    case(f"city = by age, {kind} index", CITY, ("City7",), AGE)
    case(f"age range newest, {kind} index", rng, (30,32), NEW)
print("load", os.getloadavg())
