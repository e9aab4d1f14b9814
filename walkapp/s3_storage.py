"""Photos in an S3-compatible bucket (AWS S3, MinIO, Ceph, a cloud provider's object storage), so that
several app servers share them.

Settings: ``PHOTO_STORAGE = "s3"``, ``S3_BUCKET``, ``S3_ENDPOINT_URL`` (omit for AWS), ``S3_REGION``,
``S3_PREFIX``; credentials come from the environment as boto3 reads them (``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY``, or an instance role), never from walkapp's configuration files.
The bucket stays private: walkapp reads each photo after its permission check and sends it itself, so
no bucket URL ever reaches a browser.
"""
from __future__ import annotations

import logging
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

NOT_FOUND = {"404", "NoSuchKey", "NotFound"}

log = logging.getLogger(__name__)


class S3Storage:
    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None,
                 prefix: str = "", renditions: tuple[str, ...], valid_key) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.renditions = renditions
        self.valid_key = valid_key
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30),
        )

    def name(self, key: str, rendition: str) -> str:
        if not self.valid_key(key):
            raise ValueError(f"invalid photo key {key!r}")
        if rendition not in self.renditions:
            raise ValueError(f"invalid rendition {rendition!r}")
        return f"{self.prefix}{key[:2]}/{key}.{rendition}.jpg"

    def put(self, key: str, rendition: str, data: bytes) -> None:
        self._call(self.client.put_object, Bucket=self.bucket, Key=self.name(key, rendition), Body=data,
                   ContentType="image/jpeg")

    def read(self, key: str, rendition: str) -> bytes:
        """The object's bytes; FileNotFoundError when it is gone."""
        return self.get(key, rendition)["Body"].read()

    def get(self, key: str, rendition: str) -> dict:
        """S3's answer (Body, ETag, LastModified, ContentLength); FileNotFoundError when it is gone."""
        return self._call(self.client.get_object, Bucket=self.bucket, Key=self.name(key, rendition))

    def delete(self, key: str) -> None:
        """Remove the key's renditions; in a bucket that keeps versions, every version of them: a redacted
        original or a photo that retention deleted must not live on as a previous version."""
        names = [self.name(key, r) for r in self.renditions]
        if self._keeps_versions():
            pages = self.client.get_paginator("list_object_versions").paginate(
                Bucket=self.bucket, Prefix=f"{self.prefix}{key[:2]}/{key}.")
            objects = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                       for page in self._call(list, pages)  # list() fetches the pages
                       for v in page.get("Versions", []) + page.get("DeleteMarkers", []) if v["Key"] in names]
        else:
            objects = [{"Key": name} for name in names]
        for start in range(0, len(objects), 1000):  # DeleteObjects takes at most 1000 keys
            self._delete(objects[start:start + 1000])

    def _delete(self, objects: list[dict]) -> None:
        """DeleteObjects answers 200 even when some keys failed: those errors are raised here."""
        answer = self._call(self.client.delete_objects, Bucket=self.bucket,
                            Delete={"Objects": objects, "Quiet": True})
        if answer.get("Errors"):
            raise OSError(f"photo storage: {answer['Errors'][0].get('Code') or 'error'} deleting "
                          f"{len(answer['Errors'])} objects")

    def _keeps_versions(self) -> bool:
        """Whether the bucket has (or had: "Suspended") versioning, asked at each delete since an operator
        can turn it on at any time. Without the permission to ask, say so in the log and assume not."""
        try:
            status = self._call(self.client.get_bucket_versioning, Bucket=self.bucket).get("Status")
        except OSError:
            log.warning("photo storage: cannot read the bucket's versioning (s3:GetBucketVersioning); "
                        "old versions of deleted photos are not removed", exc_info=True)
            return False
        return status in ("Enabled", "Suspended")

    def exists(self, key: str, rendition: str) -> bool:
        try:
            self._call(self.client.head_object, Bucket=self.bucket, Key=self.name(key, rendition))
            return True
        except FileNotFoundError:
            return False

    def any_files(self) -> bool:
        answer = self._call(self.client.list_objects_v2, Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1)
        return answer.get("KeyCount", 0) > 0

    def check_writable(self) -> None:
        probe = f"{self.prefix}.health/{uuid.uuid4().hex}"
        self._call(self.client.put_object, Bucket=self.bucket, Key=probe, Body=b"")
        self._call(self.client.delete_object, Bucket=self.bucket, Key=probe)

    def response(self, key: str, rendition: str):
        """The object streamed from the bucket (404 when gone), with its ETag for a cheap 304."""
        from flask import abort, current_app, request

        try:
            answer = self.get(key, rendition)
        except FileNotFoundError:
            abort(404)
        response = current_app.response_class(answer["Body"].iter_chunks(64 * 1024), mimetype="image/jpeg",
                                              direct_passthrough=True)
        response.content_length = answer["ContentLength"]
        response.set_etag(answer["ETag"].strip('"'))
        response.last_modified = answer["LastModified"]
        return response.make_conditional(request)

    @staticmethod
    def _call(method, *args, **kwargs):
        """boto3's errors as the OSErrors the local storage raises, so callers handle one kind."""
        try:
            return method(*args, **kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in NOT_FOUND:
                raise FileNotFoundError(kwargs.get("Key", "")) from None
            raise OSError(f"photo storage: {code or 'error'}") from exc
        except BotoCoreError as exc:
            raise OSError(f"photo storage: {type(exc).__name__}") from exc
