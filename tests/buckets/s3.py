"""Fixture helper for tests/buckets.rs: creates buckets and objects in the S3 endpoint named by
APPISCAN_S3_ENDPOINT (moto_server in CI), with boto3. Prints JSON results on standard output."""
import concurrent.futures
import json
import os
import sys

import boto3

s3 = boto3.client(
    "s3",
    endpoint_url=os.environ["APPISCAN_S3_ENDPOINT"],
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
)


def my_number(base):
    """A 12-digit number with a valid My Number check digit (synthetic)."""
    digits = "%011d" % base
    total = 0
    for n in range(1, 12):
        p = int(digits[11 - n])
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    r = total % 11
    return digits + str(0 if r <= 1 else 11 - r)


def main(cmd, *args):
    if cmd == "mkbucket":
        s3.create_bucket(Bucket=args[0])
        if len(args) > 1 and args[1] == "versioned":
            s3.put_bucket_versioning(Bucket=args[0], VersioningConfiguration={"Status": "Enabled"})
    elif cmd == "upload":  # bucket dir: every file of dir, key = path relative to dir
        bucket, root = args
        for d, _, files in os.walk(root):
            for f in files:
                p = os.path.join(d, f)
                with open(p, "rb") as fh:
                    s3.put_object(Bucket=bucket, Key=os.path.relpath(p, root), Body=fh.read())
    elif cmd == "put":  # bucket key file
        with open(args[2], "rb") as fh:
            r = s3.put_object(Bucket=args[0], Key=args[1], Body=fh.read())
        print(json.dumps({"version": r.get("VersionId"), "etag": r["ETag"].strip('"')}))
    elif cmd == "bulk":  # bucket n: n small CSV objects, every 10th with a (synthetic) My Number
        bucket, n = args[0], int(args[1])

        def put(i):
            body = "id,name,個人番号\n%d,user%d,\n" % (i, i)
            if i % 10 == 0:
                body += "%d,user%d,%s\n" % (i, i, my_number(10000000000 + i * 7919))
            s3.put_object(Bucket=bucket, Key="bulk/%05d.csv" % i, Body=body.encode())

        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            list(ex.map(put, range(n)))
    else:
        raise SystemExit("unknown command " + cmd)


main(*sys.argv[1:])
