"""The storage archived images live in when MJ_MEDIA_BUCKET is set: django-storages'
S3 backend, configured from the settings' variables (and by the tests, for their
S3 server on loopback)."""


def bucket_storage(
    *,
    bucket: str,
    endpoint_url: str = "",
    region: str = "",
    access_key: str = "",
    secret_key: str = "",
    prefix: str = "",
    addressing_style: str = "auto",
    url_seconds: int,
    timeout: float,
    largest_upload: int,
) -> dict:
    """A STORAGES entry for an S3-compatible bucket."""
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config

    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            "region_name": region or None,
            # None: boto3's own chain (AWS_ACCESS_KEY_ID..., ~/.aws, an instance role).
            "access_key": access_key or None,
            "secret_key": secret_key or None,
            "location": prefix,
            "default_acl": None,  # private objects: only signed URLs read them
            "querystring_auth": True,
            "querystring_expire": url_seconds,
            "file_overwrite": True,  # names hold the content's hash: same name, same bytes
            "client_config": Config(
                signature_version="s3v4",
                s3={"addressing_style": addressing_style},
                connect_timeout=timeout,
                read_timeout=timeout,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
            # One PUT per object, never a multipart upload: S3 shows a PUT whole or
            # not at all, and a killed worker leaves no parts behind.
            "transfer_config": TransferConfig(
                multipart_threshold=max(8 * 1024 * 1024, largest_upload + 1), use_threads=False
            ),
        },
    }


def bucket_origin(
    *, bucket: str, endpoint_url: str = "", region: str = "", addressing_style: str = "auto"
) -> str:
    """The scheme://host[:port] that signed URLs of this bucket point at, as boto3
    builds them (path or virtual-host style; signing needs no request): the page's
    CSP must allow it for images that redirect there."""
    from urllib.parse import urlsplit

    import botocore.session
    from botocore.config import Config

    client = botocore.session.get_session().create_client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region or None,
        aws_access_key_id="origin-only",
        aws_secret_access_key="origin-only",
        config=Config(signature_version="s3v4", s3={"addressing_style": addressing_style}),
    )
    url = urlsplit(client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}))
    return f"{url.scheme}://{url.netloc}"
