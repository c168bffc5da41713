#!/usr/bin/env python3
"""Scan many files or objects for personal data with appiscan on a Spark cluster.

The driver builds a list of work items (local paths visible on every node, or object URLs such as
s3://bucket/key), cuts it into partitions, and every Spark task hands its partition's items to
the appiscan binary on its executor:

    appiscan scan --worklist - -f jsonl --hash-key-file KEY -j TASK_CPUS [SCAN OPTIONS]

Each task's jsonl report (its "part") is checked to be whole and written with saveAsTextFile,
one part file per partition; then the driver runs `appiscan merge` over the parts and exits with
the merged report's exit code (0 clean, 1 findings, 3 incomplete, 2 failure).

Usage (see the README, section "Spark", for EMR, Dataproc and Databricks):

    spark-submit appiscan_spark.py --binary /usr/local/bin/appiscan --key-file /etc/appiscan/key \
        --walk /mnt/share --parts hdfs:///tmp/appiscan/parts --report report.jsonl \
        -- --min-confidence medium

Everything after `--` (and the string of --scan-options) is passed to `appiscan scan` unchanged.
"""

import argparse
import csv
import gzip
import heapq
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from urllib.parse import unquote_plus

# Exit codes of `appiscan scan` (SPEC section 3) that mean "the part is a trustworthy report":
# 0 clean, 1 findings at or above --fail-on, 3 some input could not be scanned (an error record).
# Anything else (2, a signal) leaves no trustworthy part: the task fails and Spark retries it.
GOOD_EXITS = (0, 1, 3)
URL_SCHEMES = ("s3://", "s3a://", "s3n://", "gs://", "abfs://", "abfss://", "wasbs://", "hdfs://", "dbfs:/", "file:")


def is_url(text):
    return text.startswith(URL_SCHEMES)


# ---------------------------------------------------------------------------------------------
# Work items


def items_from_file(path):
    """One item per line of a local text file (`-`: the driver's standard input), read as
    appiscan's --worklist reads it: white space around an item is dropped, and blank lines and
    lines starting with `#` are skipped."""
    stream = sys.stdin if path == "-" else open(path, encoding="utf-8")
    with stream:
        for line in stream:
            item = line.strip()
            if item and not item.startswith("#"):
                yield item, 1


def items_from_walk(root):
    """Every regular file under `root` as an absolute path, with its size (for balancing).

    Symbolic links are not followed (as appiscan does by default). A directory that cannot be
    listed becomes an item itself, so appiscan reports it as an error record instead of the
    walk silently dropping it.
    """
    root = os.path.abspath(root)
    if os.path.isfile(root):
        yield root, os.path.getsize(root)
        return
    unreadable = []
    for top, dirs, files in os.walk(root, onerror=lambda e: unreadable.append(e.filename)):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(top, name)
            try:
                st = os.lstat(path)
            except OSError:
                yield path, 1
                continue
            if os.path.islink(path):
                continue
            yield path, max(st.st_size, 1)
    for path in unreadable:
        yield path, 1


def inventory_schema(text):
    return [c.strip() for c in text.split(",") if c.strip()]


def inventory_items(lines, schema):
    """S3 Inventory CSV rows as `bucket,key[,versionId]` items.

    Keys in an inventory are URL-encoded (spaces as `+`); delete markers are skipped. The columns
    are those of the manifest's `fileSchema` (default: `Bucket, Key`).
    """
    col = {name: i for i, name in enumerate(schema)}
    if "Bucket" not in col or "Key" not in col:
        raise SystemExit("the inventory schema must name Bucket and Key")
    for row in csv.reader(lines):
        if len(row) <= col["Key"]:
            continue
        if "IsDeleteMarker" in col and row[col["IsDeleteMarker"]].lower() == "true":
            continue
        bucket, key = row[col["Bucket"]], unquote_plus(row[col["Key"]])
        version = row[col["VersionId"]] if "VersionId" in col and len(row) > col["VersionId"] else ""
        size = 1
        if "Size" in col and row[col["Size"]].isdigit():
            size = max(int(row[col["Size"]]), 1)
        fields = [bucket, quote_field(key)] + ([quote_field(version)] if version else [])
        yield ",".join(fields), size


def quote_field(text):
    """A work-list field, double-quoted (with `""` for a quote) when it holds a comma or a quote or
    begins or ends with white space, as appiscan's --worklist reads `bucket,key[,versionId]`."""
    if any(c in text for c in ',"') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


def read_text_local(path):
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


def inventory_from_manifest(manifest_text, manifest_path):
    """(schema, data files) of an S3 Inventory manifest.json (CSV format only)."""
    manifest = json.loads(manifest_text)
    if manifest.get("fileFormat", "CSV").upper() != "CSV":
        raise SystemExit(f"{manifest_path}: only CSV inventories are read here (Parquet: use `appiscan scan manifest.json`)")
    schema = inventory_schema(manifest.get("fileSchema", "Bucket, Key"))
    dest = manifest.get("destinationBucket", "").split(":::")[-1]
    files = []
    for f in manifest.get("files", []):
        local = os.path.join(os.path.dirname(os.path.abspath(manifest_path)), os.path.basename(f["key"]))
        if not is_url(manifest_path) and os.path.exists(local):
            files.append(local)  # a downloaded copy of the inventory next to its manifest
        else:
            files.append(f"s3://{dest}/{f['key']}")
    return schema, files


# ---------------------------------------------------------------------------------------------
# The executor side


def resolve_file(path):
    """A file shipped with --files / SparkContext.addFile if there is one, else `path` as given."""
    try:
        from pyspark import SparkFiles

        shipped = SparkFiles.get(os.path.basename(path))
    except Exception:  # not running inside Spark
        shipped = None
    if shipped and os.path.isfile(shipped):
        return shipped
    return path


def executable(path, workdir):
    """`path`, or an executable copy of it in `workdir` if the node lost its execute bit."""
    if os.access(path, os.X_OK) or not os.path.isfile(path):
        return path
    copy = os.path.join(workdir, os.path.basename(path))
    shutil.copyfile(path, copy)
    os.chmod(copy, 0o755)
    return copy


def local_dir():
    """The executor's scratch disk (YARN's LOCAL_DIRS, Spark's SPARK_LOCAL_DIRS), else TMPDIR."""
    for var in ("SPARK_LOCAL_DIRS", "LOCAL_DIRS"):
        first = os.environ.get(var, "").split(",")[0]
        if first and os.path.isdir(first):
            return first
    return None


def summary_type(line):
    try:
        return json.loads(line).get("type")
    except ValueError:
        return None  # a cut-off last line


def scan_partition(index, items, binary, key_file, threads, scan_args):
    """Runs appiscan over one partition's items and yields its jsonl part, line by line.

    The items go to a temporary file that becomes the binary's standard input, and the report to
    another temporary file; only after the binary has exited with 0, 1 or 3 and the report ends
    with its summary record is any line yielded. So a part is either whole or absent: a failed or
    truncated run raises, Spark fails the task and retries it, and saveAsTextFile's commit
    protocol keeps only the part of the attempt that succeeded.
    """
    work = tempfile.mkdtemp(prefix=f"appiscan-part-{index:05d}-", dir=local_dir())
    try:
        worklist = os.path.join(work, "items")
        count = 0
        with open(worklist, "w", encoding="utf-8") as out:
            for item in items:
                out.write(item + "\n")
                count += 1
        if count == 0:
            return
        exe = executable(resolve_file(binary), work)
        key = resolve_file(key_file)
        cmd = [exe, "scan", "--worklist", "-", "-f", "jsonl", "--hash-key-file", key]
        if threads:
            cmd += ["-j", str(threads)]
        cmd += scan_args
        report = os.path.join(work, "part.jsonl")
        errlog = os.path.join(work, "stderr")
        with open(worklist, "rb") as stdin, open(report, "wb") as stdout, open(errlog, "wb") as stderr:
            # The report must reach our file: a node's APPISCAN_OUTPUT would divert it.
            env = {k: v for k, v in os.environ.items() if k != "APPISCAN_OUTPUT"}
            code = subprocess.run(cmd, stdin=stdin, stdout=stdout, stderr=stderr, env=env).returncode
        with open(errlog, "rb") as f:
            err = f.read().decode("utf-8", "replace")
        if err:
            sys.stderr.write(f"appiscan (partition {index}):\n{err}")
        if code not in GOOD_EXITS:
            raise RuntimeError(f"appiscan exited {code} on partition {index} ({count} items): {err[-2000:]}")
        last = None
        with open(report, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    last = line
        if last is None or summary_type(last) != "summary":
            raise RuntimeError(f"appiscan's report for partition {index} does not end with a summary record")
        with open(report, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if line:
                    yield line
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# The driver side


def balance(items, partitions):
    """Items (with sizes) dealt into `partitions` lists: largest first, each to the lightest list.

    Deterministic for a given list (ties broken by the item text). Unknown sizes count as 1, which
    makes this a round robin.
    """
    buckets = [[] for _ in range(partitions)]
    heap = [(0, i) for i in range(partitions)]  # (load, bucket): the lightest on top
    for item, size in sorted(items, key=lambda t: (-t[1], t[0])):
        load, i = heapq.heappop(heap)
        buckets[i].append(item)
        heapq.heappush(heap, (load + size, i))
    return [b for b in buckets if b]


def unique(items):
    """Items in first-seen order, each once (an item named by two sources is scanned once)."""
    seen = set()
    for item, size in items:
        if item not in seen:
            seen.add(item)
            yield item, size


def hadoop_fs(sc, uri):
    jvm = sc._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path, path.getFileSystem(sc._jsc.hadoopConfiguration())


def fetch_parts(sc, parts_uri, local_dir):
    """Local paths of the non-empty part files under `parts_uri` (copied here if not local)."""
    path, fs = hadoop_fs(sc, parts_uri)
    statuses = fs.globStatus(sc._jvm.org.apache.hadoop.fs.Path(parts_uri.rstrip("/") + "/part-*")) or []
    out = []
    for st in sorted(statuses, key=lambda s: s.getPath().getName()):
        if st.getLen() == 0:
            continue  # an empty partition
        src = st.getPath()
        if fs.getUri().getScheme() == "file":
            out.append(src.toUri().getPath())
        else:
            dst = os.path.join(local_dir, src.getName() + ".jsonl")
            fs.copyToLocalFile(False, src, sc._jvm.org.apache.hadoop.fs.Path("file://" + dst), True)
            out.append(dst)
    return out


def merge_options(scan_args):
    """The scan options that `appiscan merge` needs too: --fail-on decides the merged exit code,
    and --show-values keeps the parts' raw values."""
    out = []
    for i, a in enumerate(scan_args):
        if a == "--fail-on" and i + 1 < len(scan_args):
            out += [a, scan_args[i + 1]]
        elif a.startswith("--fail-on=") or a == "--show-values":
            out.append(a)
    return out


def parse_args(argv):
    if "--" in argv:
        cut = argv.index("--")
        argv, scan_args = argv[:cut], argv[cut + 1 :]
    else:
        scan_args = []
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = p.add_argument_group("work items (any combination)")
    src.add_argument("--items", action="append", default=[], metavar="FILE",
                     help="text file, one item (path, URL or bucket,key[,versionId]) per line; "
                          "'-' is standard input; a URL (s3://, hdfs://, gs://, dbfs:/) is read by Spark")
    src.add_argument("--walk", action="append", default=[], metavar="DIR",
                     help="every regular file under DIR (walked on the driver; DIR must be mounted "
                          "at the same path on every node)")
    src.add_argument("--s3-inventory", action="append", default=[], metavar="FILE",
                     help="S3 Inventory manifest.json or CSV data file (.csv or .csv.gz)")
    src.add_argument("--inventory-schema", default="Bucket, Key",
                     help="columns of a CSV inventory given without its manifest (default: %(default)s)")
    p.add_argument("--binary", default="appiscan",
                   help="appiscan on every node, or the name of a file shipped with --files/--ship")
    p.add_argument("--key-file", required=True,
                   help="fingerprint key: the same file on every node, or shipped with --files/--ship")
    p.add_argument("--ship", action="store_true",
                   help="distribute --binary and --key-file from the driver with SparkContext.addFile")
    p.add_argument("--parts", required=True,
                   help="directory (any Hadoop file system URL) for the part files; replaced if it exists")
    p.add_argument("--report", default="-",
                   help="merged report: a path on the driver or a URL (default: standard output)")
    p.add_argument("-f", "--format", default="jsonl", help="merged report's format (default: %(default)s)")
    p.add_argument("--partitions", type=int, default=0,
                   help="number of tasks (default: 4 per core of the cluster, at most one per item)")
    p.add_argument("--threads", type=int, default=0,
                   help="appiscan -j per task (default: spark.task.cpus)")
    p.add_argument("--master", help="Spark master when not run by spark-submit (e.g. local[2])")
    p.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="extra Spark setting")
    p.add_argument("--list-items", action="store_true",
                   help="print the driver-side work items and exit without starting Spark")
    p.add_argument("--scan-options", default="", metavar="'OPTS'",
                   help="options for `appiscan scan` as one string (for launchers that mangle `--`); "
                        "options after `--` come after these")
    args = p.parse_args(argv)
    args.scan_args = shlex.split(args.scan_options) + scan_args
    if not (args.items or args.walk or args.s3_inventory):
        p.error("give at least one of --items, --walk, --s3-inventory")
    return args


def local_items(args, remote):
    """Items read on the driver; sources that only Spark can read are appended to `remote`."""
    for path in args.items:
        if is_url(path):
            remote.append(("lines", path, None))
        else:
            yield from items_from_file(path)
    for root in args.walk:
        yield from items_from_walk(root)
    for inv in args.s3_inventory:
        if inv.endswith("manifest.json"):
            text = None if is_url(inv) else read_text_local(inv)
            if text is None:
                remote.append(("manifest", inv, None))
                continue
            schema, files = inventory_from_manifest(text, inv)
        else:
            schema, files = inventory_schema(args.inventory_schema), [inv]
        for f in files:
            if is_url(f):
                remote.append(("inventory", f, schema))
            else:
                yield from inventory_items(io.StringIO(read_text_local(f)), schema)


def main(argv):
    args = parse_args(argv)
    remote = []
    items = list(unique(local_items(args, remote)))
    if args.list_items:
        if remote:
            print(f"not listed (read by Spark): {', '.join(r[1] for r in remote)}", file=sys.stderr)
        for item, _ in items:
            print(item)
        return 0

    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("appiscan")
    if args.master:
        builder = builder.master(args.master)
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    for kv in args.conf:
        k, _, v = kv.partition("=")
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    sc = spark.sparkContext
    sc.setLogLevel("WARN")
    try:
        return run(spark, sc, args, items, remote)
    except Exception as e:  # a task failed for good (after spark.task.maxFailures attempts), or I/O
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        why = next((line for line in lines if line.startswith("RuntimeError: ")), lines[0] if lines else repr(e))
        print(f"appiscan_spark: failed: {why}", file=sys.stderr)
        return 2  # exit 1 would read as "findings"
    finally:
        if "DATABRICKS_RUNTIME_VERSION" not in os.environ:  # Databricks owns its cluster's context
            spark.stop()


def run(spark, sc, args, items, remote):
    binary, key_file = args.binary, args.key_file
    if args.ship:
        for f in (binary, key_file):
            local = f if os.path.exists(f) else shutil.which(f)
            if not local:
                raise FileNotFoundError(f"--ship: {f} is not a file on the driver")
            sc.addFile(os.path.abspath(local))
    threads = args.threads or int(sc.getConf().get("spark.task.cpus", "1"))
    partitions = args.partitions or max(sc.defaultParallelism * 4, 1)

    rdds = []
    if items:
        buckets = balance(items, min(partitions, len(items)))
        # One element per bucket, one bucket per slice: partition i holds exactly bucket i.
        rdds.append(sc.parallelize(buckets, len(buckets)).flatMap(lambda b: b))
    for kind, uri, schema in remote:  # a manifest appends its data files to `remote` as it goes
        if kind == "manifest":
            text = "\n".join(sc.textFile(uri, 1).collect())
            schema, files = inventory_from_manifest(text, uri)
            for f in files:
                remote.append(("inventory", f, schema))
            continue
        lines = sc.textFile(uri)
        if kind == "inventory":
            rdds.append(lines.mapPartitions(lambda ls, s=schema: (i for i, _ in inventory_items(ls, s))))
        else:
            rdds.append(lines.map(lambda line: line.strip()).filter(lambda x: x and not x.startswith("#")))
        rdds[-1] = rdds[-1].repartition(partitions)
    if not rdds:
        print("appiscan_spark: no work items", file=sys.stderr)
        return 2
    work = rdds[0] if len(rdds) == 1 else sc.union(rdds)

    # The part directory is ours: a rerun replaces it (saveAsTextFile refuses an existing one).
    parts_path, fs = hadoop_fs(sc, args.parts)
    if fs.exists(parts_path):
        fs.delete(parts_path, True)
    scan_args = list(args.scan_args)
    work.mapPartitionsWithIndex(
        lambda i, it: scan_partition(i, it, binary, key_file, threads, scan_args)
    ).saveAsTextFile(args.parts)

    with tempfile.TemporaryDirectory(prefix="appiscan-merge-") as tmp:
        parts = fetch_parts(sc, args.parts, tmp)
        if not parts:
            print("appiscan_spark: no part was written", file=sys.stderr)
            return 2
        merger = binary
        if args.ship or not os.path.exists(merger):
            merger = executable(resolve_file(binary), tmp)
        cmd = [merger, "merge", "-f", args.format] + merge_options(args.scan_args) + parts
        if args.report == "-":
            sys.stdout.flush()
            code = subprocess.run(cmd).returncode
        else:
            local = os.path.join(tmp, "report") if is_url(args.report) else args.report
            with open(local, "wb") as out:
                code = subprocess.run(cmd, stdout=out).returncode
            if local != args.report:  # a report URL: copied there through Hadoop's file systems
                dst, fs = hadoop_fs(sc, args.report)
                fs.copyFromLocalFile(False, True, sc._jvm.org.apache.hadoop.fs.Path("file://" + local), dst)
    print(f"appiscan_spark: {len(parts)} parts merged, exit {code}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
