"""Blob storage backends: the BlobStore interface (base), files (the default) and an
S3-compatible server (s3). The S3 API that serves them is skylet.aws.s3_api."""
