Code.require_file("../T.exs", __DIR__)
T.main(fn ->
  pid = spawn(fn -> receive do :go -> :ok end end)
  ref = Process.monitor(pid)
  send(pid, :go)
  receive do {:DOWN, ^ref, _, _, _} = d -> T.out("down", d) end
  T.out("monitors", T.info(self(), :monitors))
  T.settle()
  T.flush()
end)
T.done()
