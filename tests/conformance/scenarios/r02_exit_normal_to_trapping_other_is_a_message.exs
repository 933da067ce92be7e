Code.require_file("../T.exs", __DIR__)
T.run(fn ->
  pid = T.start_forwarder()
  T.out("exit", Process.exit(pid, :normal))
  receive do {:got, m} -> T.out("got", m) end
  T.out("alive", Process.alive?(pid))
end)
T.done()
