"""Uploads in S3-compatible object storage (S3_BUCKET, django-storages), so that several app
servers share them: a document attached from the page lands in the bucket, private, is
downloaded by a member through Coordo, and is deleted from the bucket once its removal is
committed. The bucket is moto's in-process S3 (boto3's real calls, no network)."""

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from moto import mock_aws

from config.settings import uploads_storage
from demo.documents import pdf
from documents.models import Document

BUCKET = "coordo-documents"
PDF = pdf("Contrat local de santé", "Signé par six organisations.")


@pytest.fixture
def bucket(settings, monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "eu-west-3",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-3")
        s3.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
        )
        storage = uploads_storage({"S3_BUCKET": BUCKET, "S3_PREFIX": "uploads"})
        settings.STORAGES = {**settings.STORAGES, "default": storage}
        yield s3


def _keys(s3) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_without_a_bucket_uploads_stay_on_disk():
    assert uploads_storage({})["BACKEND"] == "django.core.files.storage.FileSystemStorage"


def test_a_document_goes_to_the_bucket_and_back(
    client, world, bucket, django_capture_on_commit_callbacks
):
    client.force_login(world.coordinator)
    url = reverse("coordo:document-attach", args=["dispositif", world.programme.pk])
    file = SimpleUploadedFile("contrat.pdf", PDF, "application/pdf")
    client.post(url, {"kind": "contract", "file": file})
    document = Document.objects.get()
    [key] = _keys(bucket)
    assert key == f"uploads/{document.file.name}"
    assert bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read() == PDF
    grants = bucket.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
    assert all("AllUsers" not in str(g["Grantee"]) for g in grants)  # never public

    client.force_login(world.wg_member)
    response = client.get(reverse("coordo:document", args=[document.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF

    client.force_login(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("coordo:document-remove", args=[document.pk]))
    assert not Document.objects.exists() and _keys(bucket) == []


def test_a_refused_upload_leaves_nothing_in_the_bucket(client, world, bucket):
    client.force_login(world.coordinator)
    url = reverse("coordo:document-attach", args=["dispositif", world.programme.pk])
    html = SimpleUploadedFile("page.pdf", b"<html><script>x</script></html>", "application/pdf")
    page = client.post(url, {"kind": "contract", "file": html}, follow=True)
    assert page.status_code == 200 and not Document.objects.exists()
    assert _keys(bucket) == []
