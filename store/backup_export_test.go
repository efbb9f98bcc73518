package store

// SetBackupTestHooks makes backups copy pagesPerStep pages per step (0
// keeps the default) and call step between steps and lockBusy when they
// wait for another backup; the returned function undoes it.
func SetBackupTestHooks(pagesPerStep int, step func(copied, total int), lockBusy func()) (restore func()) {
	oldPages, oldStep, oldBusy := backupPagesPerStep, testHookBackupStep, testHookBackupLockBusy
	if pagesPerStep > 0 {
		backupPagesPerStep = pagesPerStep
	}
	testHookBackupStep, testHookBackupLockBusy = step, lockBusy
	return func() {
		backupPagesPerStep, testHookBackupStep, testHookBackupLockBusy = oldPages, oldStep, oldBusy
	}
}

// BackupLockName is the lock file a backup keeps in its directory.
const BackupLockName = backupLockName
