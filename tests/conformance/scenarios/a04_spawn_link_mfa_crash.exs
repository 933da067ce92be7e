Code.require_file("../T.exs", __DIR__)
defmodule Crashy do
  def run do
    receive do
      :crash -> 1 / Enum.count([])
    end
  end
end
T.run(fn ->
  pid = spawn_link(Crashy, :run, [])
  T.out("sending", :crash)
  send(pid, :crash)
  T.settle()
end)
T.done()
