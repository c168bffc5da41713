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
    elif cmd == "bulk":  # bucket n: n small CSV objects, every 10th with a mobile number
        bucket, n = args[0], int(args[1])

        def put(i):
            body = "id,name,note\n%d,user%d,none\n" % (i, i)
            if i % 10 == 0:
                body += "%d,user%d,tel 090-%04d-%04d\n" % (i, i, i % 10000, (i * 7) % 10000)
            s3.put_object(Bucket=bucket, Key="bulk/%05d.csv" % i, Body=body.encode())

        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            list(ex.map(put, range(n)))
    else:
        raise SystemExit("unknown command " + cmd)


main(*sys.argv[1:])
