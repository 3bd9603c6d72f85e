"""The shared moto fixture really serves S3 over HTTP."""

import boto3


def test_moto_serves_s3(s3_root, aws_env):
    bucket = s3_root.removeprefix("s3://").split("/")[0]
    client = boto3.client("s3", endpoint_url=aws_env.endpoint)
    client.put_object(Bucket=bucket, Key="k", Body=b"v")
    assert client.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
